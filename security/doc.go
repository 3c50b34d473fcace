// Package security holds Custos's security primitives: password hashing and
// the password policy, the API key format, and session tokens. It depends on
// no other Custos package.
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
// Not built yet: HTTP middleware (response headers, rate limits, CSRF
// protection), authentication and role-based access control.
package security
