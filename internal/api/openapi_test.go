package api_test

import (
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/cutover/cutover/internal/api"
)

// TestOpenAPIMatchesRouter reads openapi.yaml and the router's route table:
// every route is described, with the role it needs, and nothing else is.
func TestOpenAPIMatchesRouter(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../openapi.yaml")
	require.NoError(t, err)
	var spec struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	require.NoError(t, yaml.Unmarshal(data, &spec))

	type op struct{ Method, Path, Role string }
	var described []op
	methods := []string{"get", "put", "post", "delete", "patch", "head"}
	for path, item := range spec.Paths {
		for key, node := range item {
			if !slices.Contains(methods, key) {
				require.Equal(t, "parameters", key, "%s: unexpected key %q", path, key)
				continue
			}
			var o struct {
				Role     *string          `yaml:"x-cutover-role"`
				Security []map[string]any `yaml:"security"`
				Summary  string           `yaml:"summary"`
			}
			require.NoError(t, node.Decode(&o))
			require.NotNil(t, o.Role, "%s %s has no x-cutover-role", key, path)
			require.NotEmpty(t, o.Summary, "%s %s has no summary", key, path)
			require.Equal(t, *o.Role == "", o.Security != nil && len(o.Security) == 0,
				"%s %s: an open route says security: [] and only an open route does", key, path)
			described = append(described, op{strings.ToUpper(key), path, *o.Role})
		}
	}
	var served []op
	for _, rt := range api.NewServer(nil, nil, slog.New(slog.DiscardHandler), nil).Routes() {
		if !rt.Page { // the pages are for people, not part of the API
			served = append(served, op{rt.Method, rt.Pattern, string(rt.Role)})
		}
	}
	cmp := func(a, b op) int { return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method) }
	slices.SortFunc(described, cmp)
	slices.SortFunc(served, cmp)
	require.Equal(t, served, described, "openapi.yaml and the router differ")
}
