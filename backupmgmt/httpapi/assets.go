package httpapi

func (a *API) assetRoutes() []*route { return nil }
