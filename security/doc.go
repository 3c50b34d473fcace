// Package security will hold HTTP middleware and security primitives:
// response headers, rate limits, CSRF protection, password hashing, the API
// key format, authentication and role-based access control. It depends on
// no other Custos package.
//
// Not built yet: the package is empty.
package security
