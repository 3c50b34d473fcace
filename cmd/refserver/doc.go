// Command refserver is the Custos reference server: the library composed
// into one binary.
//
// Usage:
//
//	refserver serve [--addr ADDR] [--db DSN] [--log-level LEVEL]
//	refserver migrate up|down|status|unlock [--db DSN]
//	refserver help [COMMAND]
//
// Configuration comes from flags and CUSTOS_* environment variables; a flag
// wins over its variable:
//
//	CUSTOS_ADDR       listen address; defaults to 127.0.0.1:8080
//	CUSTOS_DB         database: sqlite:PATH, postgres://… or mysql://…;
//	                  defaults to sqlite:custos.db
//	CUSTOS_LOG_LEVEL  debug, info, warn or error; defaults to info
//
// serve opens the database, applies pending migrations, and answers
// GET /healthz (the process is up) and GET /readyz (the database answers and
// the schema is current) until SIGINT or SIGTERM, then drains requests for
// up to 15 seconds. Logs are JSON on stderr.
//
// Exit codes: 0 on success, 1 when the command fails, 2 on a usage error.
package main
