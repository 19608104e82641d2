package server

import (
	"context"
	"net/http"

	"protocol/gen"
	"protocol/store"
)

// ListConversations returns a page of the account's conversations, filtered as asked.
func (a *API) ListConversations(ctx context.Context, req gen.ListConversationsRequestObject) (gen.ListConversationsResponseObject, error) {
	prm := req.Params
	p, err := page(prm.Limit, prm.StartingAfter, prm.EndingBefore)
	if err != nil {
		return nil, err
	}
	filter := store.ConversationFilter{Muted: prm.Muted, Archived: prm.Archived, Pinned: prm.Pinned, GroupID: prm.GroupId}
	rows, hasMore, err := a.store.ListConversations(ctx, accountOf(ctx), p, filter)
	if err != nil {
		return nil, err
	}
	return encoded{status: http.StatusOK, body: appendList(make([]byte, 0, 256*len(rows)+32), rows, hasMore, appendConversation)}, nil
}

// CreateConversation starts a conversation with a contact or for a group.
func (a *API) CreateConversation(ctx context.Context, req gen.CreateConversationRequestObject) (gen.CreateConversationResponseObject, error) {
	var (
		in  store.NewConversation
		err error
	)
	switch {
	case req.JSONBody != nil:
		in, err = newConversation(req.JSONBody.ContactId, req.JSONBody.GroupId)
	case req.FormdataBody != nil:
		in, err = newConversation(req.FormdataBody.ContactId, req.FormdataBody.GroupId)
	default:
		err = errNoBody
	}
	if err != nil {
		return nil, err
	}
	c, err := a.store.CreateConversation(ctx, accountOf(ctx), in)
	if err != nil {
		return nil, err
	}
	return objectResponse(http.StatusCreated, c, appendConversation), nil
}

// GetConversation returns one conversation, or 304 when the client's copy is current.
func (a *API) GetConversation(ctx context.Context, req gen.GetConversationRequestObject) (gen.GetConversationResponseObject, error) {
	c, err := a.store.Conversation(ctx, accountOf(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	resp := objectResponse(http.StatusOK, c, appendConversation)
	if notModified(req.Params.IfNoneMatch, resp.etag) {
		return gen.GetConversation304Response{Headers: gen.NotModifiedResponseHeaders{ETag: &resp.etag}}, nil
	}
	return resp, nil
}

// UpdateConversation changes the fields the client sent and leaves the others alone.
func (a *API) UpdateConversation(ctx context.Context, req gen.UpdateConversationRequestObject) (gen.UpdateConversationResponseObject, error) {
	var (
		ch  store.ConversationChanges
		err error
	)
	switch {
	case req.JSONBody != nil:
		ch = conversationChangesFromJSON(req.JSONBody)
	case req.FormdataBody != nil:
		ch, err = conversationChangesFromForm(req.FormdataBody)
	default:
		err = errNoBody
	}
	if err != nil {
		return nil, err
	}
	c, err := a.store.UpdateConversation(ctx, accountOf(ctx), req.Id, ch, ifMatch(req.Params.IfMatch, appendConversation))
	if err != nil {
		return nil, err
	}
	return objectResponse(http.StatusOK, c, appendConversation), nil
}

// DeleteConversation deletes a conversation; its contact stays, without a conversation.
func (a *API) DeleteConversation(ctx context.Context, req gen.DeleteConversationRequestObject) (gen.DeleteConversationResponseObject, error) {
	if err := a.store.DeleteConversation(ctx, accountOf(ctx), req.Id, ifMatch(req.Params.IfMatch, appendConversation)); err != nil {
		return nil, err
	}
	return gen.DeleteConversation200JSONResponse{Body: gen.Deleted{Id: req.Id, Deleted: true}}, nil
}
