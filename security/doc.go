// Package security holds Custos's security primitives and HTTP middleware:
// password hashing and the password policy, the API key format, session
// tokens, response headers, request IDs, cross-origin protection,
// authentication and rate limits. It depends on no other Custos package.
//
// Passwords are hashed with argon2id and stored as PHC strings
// ($argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>). [VerifyPassword] also
// accepts bcrypt hashes and reports when a stored hash should be replaced,
// so older hashes are upgraded at the next successful login. [DummyVerify]
// lets a login handler spend the same time on an unknown user as on a known
// one.
//
// API keys look like cst_<prefix>_<secret>: the prefix is stored in clear to
// find the key, the secret only as a SHA-256 hash ([HashSecret]) compared in
// constant time ([SecretMatches]). Browser session tokens are 256 random bits
// and are likewise stored only as a hash ([HashToken]).
//
// Secret values are carried in [Secret], which prints and logs as
// "[redacted]" so that a stray log line or error message cannot leak them.
//
// # HTTP middleware
//
// The middleware is plain func(http.Handler) http.Handler, chained
// explicitly by the server. Middleware that rejects a request writes the
// error through an [ErrorWriter] the caller supplies, so that the whole
// server has one error envelope; [DefaultErrorWriter] writes
// {"error":{"code":...,"message":...,"request_id":...}}. A typical chain,
// outermost first:
//
//   - [Headers] sets the DESIGN §7 response headers (CSP, X-Frame-Options,
//     HSTS when serving TLS, ...) before anything else can answer;
//   - [RequestID] gives each request an ID and keeps or creates its
//     correlation ID ([RequestIDFrom], [CorrelationIDFrom]);
//   - [MaxBody] bounds request bodies;
//   - [CrossOrigin] rejects cross-origin browser requests with unsafe
//     methods, on top of [http.CrossOriginProtection]; bearer-key requests
//     are exempt;
//   - [Authenticate] resolves a bearer API key or the session cookie
//     through an [Authenticator] and puts the [Principal] in the context;
//   - [RateLimit] limits requests per key with a [Limiter];
//   - [Require] guards a route with a permission, answering 401 or 403.
//
// [ClientIP] finds the client address, trusting X-Forwarded-For only from
// the proxies given ([ParseTrustedProxies]). [SetSessionCookie] and
// [ClearSessionCookie] manage the session cookie.
//
// # Rate limits
//
// A [Limiter] keeps token buckets (golang.org/x/time/rate) per key: one
// per [Limit], all of which must allow an event, and an optional global
// backstop. Its store is bounded, and a key is dropped only once its
// buckets are full again, so eviction never hands out a fresh burst early.
// [LimitLogin], [LimitAnonymous] and the other Limit* values are the
// defaults of DESIGN §7. [WriteRateHeaders] sets X-RateLimit-Limit,
// X-RateLimit-Remaining, X-RateLimit-Reset and Retry-After.
//
// Not built yet: the role-based access control table; [Principal.Allowed]
// is where an application plugs its own.
package security
