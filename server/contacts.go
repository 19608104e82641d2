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
	out := gen.ListContacts200JSONResponse{HasMore: hasMore, Data: make([]gen.Contact, len(rows))}
	for i, c := range rows {
		out.Data[i] = contactOut(c)
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
	return gen.CreateContact201JSONResponse(contactOut(c)), nil
}

// GetContact returns one contact.
func (a *API) GetContact(ctx context.Context, req gen.GetContactRequestObject) (gen.GetContactResponseObject, error) {
	c, err := a.store.Contact(ctx, accountOf(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return gen.GetContact200JSONResponse(contactOut(c)), nil
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
	c, err := a.store.UpdateContact(ctx, accountOf(ctx), req.Id, ch)
	if err != nil {
		return nil, err
	}
	return gen.UpdateContact200JSONResponse(contactOut(c)), nil
}

// DeleteContact deletes a contact and its conversation.
func (a *API) DeleteContact(ctx context.Context, req gen.DeleteContactRequestObject) (gen.DeleteContactResponseObject, error) {
	if err := a.store.DeleteContact(ctx, accountOf(ctx), req.Id); err != nil {
		return nil, err
	}
	return gen.DeleteContact200JSONResponse{Id: req.Id, Deleted: true}, nil
}
