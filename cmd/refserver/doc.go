// Command refserver is the Custos reference server: the library composed
// into one binary.
//
// Usage:
//
//	refserver serve [--addr ADDR] [--db DSN] [--log-level LEVEL] [--base-url URL]
//	                [--trusted-proxies CIDRS] [--trusted-origins ORIGINS]
//	                [--tls-cert FILE --tls-key FILE] [--behind-tls]
//	refserver migrate up|down|status|unlock [--db DSN]
//	refserver user add --username USER --role ROLE [--email EMAIL] [--full-name NAME] [--db DSN]
//	refserver apikey create --user USER --name NAME --scopes SCOPE[,SCOPE] [--job JOB] [--expires-in DURATION] [--db DSN]
//	refserver audit verify [--db DSN]
//	refserver help [COMMAND]
//
// Configuration comes from flags and CUSTOS_* environment variables; a flag
// wins over its variable:
//
//	CUSTOS_ADDR             listen address; defaults to 127.0.0.1:8080
//	CUSTOS_DB               database: sqlite:PATH, postgres://… or mysql://…;
//	                        defaults to sqlite:custos.db
//	CUSTOS_LOG_LEVEL        debug, info, warn or error; defaults to info
//	CUSTOS_BASE_URL         public URL of the server, for ping URLs
//	CUSTOS_TRUSTED_PROXIES  CIDRs whose X-Forwarded-For is believed
//	CUSTOS_TRUSTED_ORIGINS  extra origins allowed to post with a session cookie
//	CUSTOS_TLS_CERT, CUSTOS_TLS_KEY  serve HTTPS with this certificate
//	CUSTOS_BEHIND_TLS       a TLS proxy sits in front: Secure cookies and HSTS
//	CUSTOS_ADMIN_PASSWORD   password of the admin user serve creates on first start
//	CUSTOS_USER_PASSWORD    password of 'user add' (otherwise read from stdin)
//
// serve opens the database, applies pending migrations and, when the
// database has no user, creates the user admin with CUSTOS_ADMIN_PASSWORD or
// a generated one-time password printed once on stdout. It then serves the
// API of backupmgmt/httpapi, with GET /healthz (the process is up) and
// GET /readyz (the database answers and the schema is current), and runs
// the background work of backupmgmt.Service.Run, until SIGINT or SIGTERM;
// then it drains requests for up to 15 seconds. Logs are JSON on stderr.
//
// Exit codes: 0 on success, 1 when the command fails, 2 on a usage error.
package main
