package server

import (
	"context"

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
	out := gen.ListConversations200JSONResponse{HasMore: hasMore, Data: make([]gen.Conversation, len(rows))}
	for i, c := range rows {
		out.Data[i] = conversationOut(c)
	}
	return out, nil
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
	return gen.CreateConversation201JSONResponse(conversationOut(c)), nil
}

// GetConversation returns one conversation.
func (a *API) GetConversation(ctx context.Context, req gen.GetConversationRequestObject) (gen.GetConversationResponseObject, error) {
	c, err := a.store.Conversation(ctx, accountOf(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return gen.GetConversation200JSONResponse(conversationOut(c)), nil
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
	c, err := a.store.UpdateConversation(ctx, accountOf(ctx), req.Id, ch)
	if err != nil {
		return nil, err
	}
	return gen.UpdateConversation200JSONResponse(conversationOut(c)), nil
}

// DeleteConversation deletes a conversation; its contact stays, without a conversation.
func (a *API) DeleteConversation(ctx context.Context, req gen.DeleteConversationRequestObject) (gen.DeleteConversationResponseObject, error) {
	if err := a.store.DeleteConversation(ctx, accountOf(ctx), req.Id); err != nil {
		return nil, err
	}
	return gen.DeleteConversation200JSONResponse{Id: req.Id, Deleted: true}, nil
}
