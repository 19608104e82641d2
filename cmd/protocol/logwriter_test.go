package main

import (
	"strings"
	"testing"
	"time"
)

func TestBufferedLogFlushesOnTimeAndOnClose(t *testing.T) {
	var out syncBuffer
	b := newBufferedLog(&out, 20*time.Millisecond)
	if _, err := b.Write([]byte("first\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(out.String(), "first") {
		if time.Now().After(deadline) {
			t.Fatal("a buffered line was not flushed within the interval")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := b.Write([]byte("last\n")); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "first\nlast\n" {
		t.Errorf("log = %q, want both lines in order", got)
	}
}
