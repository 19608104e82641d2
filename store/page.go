package store

// Page asks for one page of a list that is ordered newest first.
type Page struct {
	Limit int
	// StartingAfter is an id: the page holds the objects right after it (older ones).
	StartingAfter string
	// EndingBefore is an id: the page holds the objects right before it (newer ones).
	EndingBefore string
}
