package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"
)

// specDoc is openapi.yaml parsed once, kept as a YAML node tree so that what is served keeps the
// author's order of paths, operations and keys (Swagger UI lists operations in document order)
// and, in YAML, the comments.
type specDoc struct {
	root *yaml.Node // the top-level mapping
}

func parseSpecDoc(data []byte) (*specDoc, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("openapi.yaml is not a mapping")
	}
	return &specDoc{root: doc.Content[0]}, nil
}

// withServer returns the document with `servers` replaced by the one URL it is served from. The
// shared tree is not modified: only the top-level mapping is copied.
func (d *specDoc) withServer(url string) *yaml.Node {
	str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
	servers := &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{{
		Kind: yaml.MappingNode,
		Content: []*yaml.Node{
			str("url"), str(url),
			str("description"), str("The server that served this document."),
		},
	}}}
	root := *d.root
	root.Content = slices.Clone(d.root.Content)
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "servers" {
			root.Content[i+1] = servers
			return &root
		}
	}
	// No servers in the file: put them after info, where a reader looks for them.
	at := len(root.Content)
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "info" {
			at = i + 2
		}
	}
	root.Content = slices.Insert(root.Content, at, str("servers"), servers)
	return &root
}

// yamlBytes encodes the document as YAML.
func yamlBytes(n *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// jsonBytes encodes the document as indented JSON, keys in the document's order.
func jsonBytes(n *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, n); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func writeJSON(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return errors.New("empty YAML document")
		}
		return writeJSON(buf, n.Content[0])
	case yaml.AliasNode:
		return writeJSON(buf, n.Alias)
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "<<" {
				return errors.New("YAML merge keys are not supported")
			}
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeValue(buf, n.Content[i].Value); err != nil {
				return err
			}
			buf.WriteByte(':')
			if err := writeJSON(buf, n.Content[i+1]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, c); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		var v any
		switch n.ShortTag() {
		case "!!str", "!!timestamp", "!!binary":
			v = n.Value // as written: JSON has no timestamps, and YAML's would become RFC 3339
		default:
			if err := n.Decode(&v); err != nil {
				return err
			}
		}
		return writeValue(buf, v)
	default:
		return fmt.Errorf("unexpected YAML node kind %d", n.Kind)
	}
	return nil
}

// writeValue writes one JSON value, leaving <, > and & as they are: descriptions use them.
func writeValue(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	return nil
}
