package store

// Contact is a stored contact. ConversationID is the id of its one-to-one conversation, or nil
// while it has none; the writes that create or delete that conversation keep it.
type Contact struct {
	Seq            int64   `gorm:"column:seq;primaryKey;autoIncrement"`
	ID             string  `gorm:"column:id"`
	AccountID      string  `gorm:"column:account_id"`
	Username       string  `gorm:"column:username"`
	PhoneNumber    string  `gorm:"column:phone_number"`
	AvatarURL      *string `gorm:"column:avatar_url"`
	DisplayName    *string `gorm:"column:display_name"`
	LastActiveAt   *int64  `gorm:"column:last_active_at"`
	CreatedAt      int64   `gorm:"column:created_at;autoCreateTime:false"`
	ConversationID *string `gorm:"column:conversation_id"`
}

// TableName names the table for GORM.
func (Contact) TableName() string { return "contacts" }

// Conversation is a stored conversation, with a contact or for a group.
type Conversation struct {
	Seq             int64   `gorm:"column:seq;primaryKey;autoIncrement"`
	ID              string  `gorm:"column:id"`
	AccountID       string  `gorm:"column:account_id"`
	ContactID       *string `gorm:"column:contact_id"`
	GroupID         *string `gorm:"column:group_id"`
	PinnedMessageID *string `gorm:"column:pinned_message_id"`
	IsPinned        bool    `gorm:"column:is_pinned"`
	IsMuted         bool    `gorm:"column:is_muted"`
	LastActiveAt    *int64  `gorm:"column:last_active_at"`
	LastOpenedAt    *int64  `gorm:"column:last_opened_at"`
	CreatedAt       int64   `gorm:"column:created_at;autoCreateTime:false"`
	ArchivedAt      *int64  `gorm:"column:archived_at"`
}

// TableName names the table for GORM.
func (Conversation) TableName() string { return "conversations" }

// Account owns contacts, conversations and API keys; nothing is shared between accounts.
type Account struct {
	ID        string `gorm:"column:id;primaryKey"`
	Name      string `gorm:"column:name"`
	CreatedAt int64  `gorm:"column:created_at;autoCreateTime:false"`
}

// TableName names the table for GORM.
func (Account) TableName() string { return "accounts" }

// APIKey is a key's record. The key itself is never stored, only its SHA-256 hash.
type APIKey struct {
	ID        string `gorm:"column:id;primaryKey"`
	AccountID string `gorm:"column:account_id"`
	Name      string `gorm:"column:name"`
	Hash      string `gorm:"column:hash"`
	// Hint is the key's first characters, enough to tell keys apart in a listing.
	Hint      string `gorm:"column:hint"`
	CreatedAt int64  `gorm:"column:created_at;autoCreateTime:false"`
	RevokedAt *int64 `gorm:"column:revoked_at"`
}

// TableName names the table for GORM.
func (APIKey) TableName() string { return "api_keys" }

// Optional is a field of a partial update: Set says whether the client sent it, and a nil Value
// with Set means "clear it".
type Optional[T any] struct {
	Set   bool
	Value *T
}

// SetTo returns an Optional that sets the field to v.
func SetTo[T any](v T) Optional[T] { return Optional[T]{Set: true, Value: &v} }

// Clear returns an Optional that clears the field.
func Clear[T any]() Optional[T] { return Optional[T]{Set: true} }
