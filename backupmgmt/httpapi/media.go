package httpapi

func (a *API) mediaRoutes() []*route { return nil }
