package httpapi

func (a *API) rotationRoutes() []*route { return nil }
