package server

import (
	"context"
	"net/http"

	"protocol/gen"
	"protocol/store"
)

// ListContacts returns a page of the account's contacts.
func (a *API) ListContacts(ctx context.Context, req gen.ListContactsRequestObject) (gen.ListContactsResponseObject, error) {
	p, err := page(req.Params.Limit, req.Params.StartingAfter, req.Params.EndingBefore)
	if err != nil {
		return nil, err
	}
	rows, hasMore, err := a.store.ListContacts(ctx, accountOf(ctx), p, store.ContactFilter{Active: req.Params.Active})
	if err != nil {
		return nil, err
	}
	return encoded{status: http.StatusOK, body: appendList(make([]byte, 0, 256*len(rows)+32), rows, hasMore, appendContact)}, nil
}

// CreateContact adds a contact, and with it the conversation with that contact.
func (a *API) CreateContact(ctx context.Context, req gen.CreateContactRequestObject) (gen.CreateContactResponseObject, error) {
	var in store.NewContact
	switch {
	case req.JSONBody != nil:
		in = newContactFromJSON(req.JSONBody)
	case req.FormdataBody != nil:
		in = newContactFromForm(req.FormdataBody)
	default:
		return nil, errNoBody
	}
	c, err := a.store.CreateContact(ctx, accountOf(ctx), in)
	if err != nil {
		return nil, err
	}
	return objectResponse(http.StatusCreated, c, appendContact), nil
}

// GetContact returns one contact, or 304 when the client's copy is current.
func (a *API) GetContact(ctx context.Context, req gen.GetContactRequestObject) (gen.GetContactResponseObject, error) {
	c, err := a.store.Contact(ctx, accountOf(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	resp := objectResponse(http.StatusOK, c, appendContact)
	if notModified(req.Params.IfNoneMatch, resp.etag) {
		return gen.GetContact304Response{Headers: gen.NotModifiedResponseHeaders{ETag: &resp.etag}}, nil
	}
	return resp, nil
}

// UpdateContact changes the fields the client sent and leaves the others alone.
func (a *API) UpdateContact(ctx context.Context, req gen.UpdateContactRequestObject) (gen.UpdateContactResponseObject, error) {
	var ch store.ContactChanges
	switch {
	case req.JSONBody != nil:
		ch = contactChangesFromJSON(req.JSONBody)
	case req.FormdataBody != nil:
		ch = contactChangesFromForm(req.FormdataBody)
	default:
		return nil, errNoBody
	}
	c, err := a.store.UpdateContact(ctx, accountOf(ctx), req.Id, ch, ifMatch(req.Params.IfMatch, appendContact))
	if err != nil {
		return nil, err
	}
	return objectResponse(http.StatusOK, c, appendContact), nil
}

// DeleteContact deletes a contact and its conversation.
func (a *API) DeleteContact(ctx context.Context, req gen.DeleteContactRequestObject) (gen.DeleteContactResponseObject, error) {
	if err := a.store.DeleteContact(ctx, accountOf(ctx), req.Id, ifMatch(req.Params.IfMatch, appendContact)); err != nil {
		return nil, err
	}
	return gen.DeleteContact200JSONResponse{Body: gen.Deleted{Id: req.Id, Deleted: true}}, nil
}
