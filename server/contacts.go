package server

import (
	"context"

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
	out := gen.ListContacts200JSONResponse{Body: gen.ContactList{HasMore: hasMore, Data: make([]gen.Contact, len(rows))}}
	for i, c := range rows {
		out.Body.Data[i] = contactOut(c)
	}
	return out, nil
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
	body := contactOut(c)
	tag := etagOf(body)
	return gen.CreateContact201JSONResponse{Body: body, Headers: gen.CreateContact201ResponseHeaders{ETag: &tag}}, nil
}

// GetContact returns one contact, or 304 when the client's copy is current.
func (a *API) GetContact(ctx context.Context, req gen.GetContactRequestObject) (gen.GetContactResponseObject, error) {
	c, err := a.store.Contact(ctx, accountOf(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	body := contactOut(c)
	tag := etagOf(body)
	if notModified(req.Params.IfNoneMatch, tag) {
		return gen.GetContact304Response{Headers: gen.NotModifiedResponseHeaders{ETag: &tag}}, nil
	}
	return gen.GetContact200JSONResponse{Body: body, Headers: gen.GetContact200ResponseHeaders{ETag: &tag}}, nil
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
	c, err := a.store.UpdateContact(ctx, accountOf(ctx), req.Id, ch, ifMatch(req.Params.IfMatch, contactOut))
	if err != nil {
		return nil, err
	}
	body := contactOut(c)
	tag := etagOf(body)
	return gen.UpdateContact200JSONResponse{Body: body, Headers: gen.UpdateContact200ResponseHeaders{ETag: &tag}}, nil
}

// DeleteContact deletes a contact and its conversation.
func (a *API) DeleteContact(ctx context.Context, req gen.DeleteContactRequestObject) (gen.DeleteContactResponseObject, error) {
	if err := a.store.DeleteContact(ctx, accountOf(ctx), req.Id, ifMatch(req.Params.IfMatch, contactOut)); err != nil {
		return nil, err
	}
	return gen.DeleteContact200JSONResponse{Body: gen.Deleted{Id: req.Id, Deleted: true}}, nil
}
