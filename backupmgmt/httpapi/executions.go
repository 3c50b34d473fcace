package httpapi

func (a *API) executionRoutes() []*route { return nil }
