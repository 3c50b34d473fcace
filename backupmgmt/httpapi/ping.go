package httpapi

func (a *API) pingRoutes() []*route { return nil }
