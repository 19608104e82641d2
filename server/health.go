package server

import (
	"context"

	"protocol/gen"
)

// GetHealth answers while the server runs and its database answers.
func (a *API) GetHealth(ctx context.Context, _ gen.GetHealthRequestObject) (gen.GetHealthResponseObject, error) {
	if err := a.store.Ping(ctx); err != nil {
		return nil, err
	}
	return gen.GetHealth200JSONResponse{Body: gen.Health{Status: gen.Ok}}, nil
}
