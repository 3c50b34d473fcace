package httpapi

var openAPIDocument = []byte(`{}`)
