package httpapi

func (a *API) jobRoutes() []*route { return nil }
