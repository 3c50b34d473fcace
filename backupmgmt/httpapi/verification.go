package httpapi

func (a *API) verificationRoutes() []*route { return nil }
