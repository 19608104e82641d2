package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"protocol/server/servertest"
)

func TestMetricsCountOperations(t *testing.T) {
	s := servertest.New(t)
	c := createContact(t, s, frank)
	s.Do(servertest.Request{Path: "/v1/contacts/" + c.Id})
	s.Do(servertest.Request{Path: "/v1/contacts/WAz8eIbvDR60rouK"})
	s.Do(servertest.Request{Path: "/v1/no/such/route"})

	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`protocol_http_requests_total{code="201",operation="createContact"} 1`,
		`protocol_http_requests_total{code="200",operation="getContact"} 1`,
		`protocol_http_requests_total{code="404",operation="getContact"} 1`,
		`protocol_http_requests_total{code="404",operation="unmatched"} 1`,
		`protocol_http_request_duration_seconds_count{operation="getContact"} 2`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s\n%s", want, body)
		}
	}
}
