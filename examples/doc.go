// Package examples will hold runnable examples: embedding the Custos
// service in a program, writing a storage adapter that passes
// store/storetest, and producing a report from a script.
//
// Not built yet: the package is empty.
package examples
