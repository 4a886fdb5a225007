package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/cli"
	"github.com/cutover/cutover/internal/dbtest"
)

// run runs the command line with env, returning its exit code and output.
func run(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code := cli.Main(ctx, args, func(k string) string { return env[k] }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestHelp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--help"}, "Commands:"},
		{[]string{"help"}, "Commands:"},
		{[]string{"serve", "--help"}, "-role"},
		{[]string{"migrate", "--help"}, "-database-url"},
		{[]string{"status", "--help"}, "UPN-or-SIP-address"},
		{[]string{"demo", "--help"}, "-plan"},
		{[]string{"simulate", "--help"}, "-sim-seed"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := run(t, nil, tt.args...)
			require.Equal(t, 0, code)
			require.Contains(t, stdout+stderr, tt.want)
		})
	}
}

func TestBadInvocations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no command", nil, nil, 2, ""},
		{"unknown command", nil, []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unknown flag", nil, []string{"migrate", "--nope"}, 2, "flag provided but not defined: -nope"},
		{"status without a user", nil, []string{"status"}, 2, "want 1 argument(s), got 0"},
		{"bad number in env", map[string]string{"CUTOVER_WORKERS": "many"}, []string{"serve"}, 1, `CUTOVER_WORKERS="many" is not a whole number`},
		{"bad duration in env", map[string]string{"CUTOVER_SHELL_TIMEOUT": "soon"}, []string{"serve"}, 1, `CUTOVER_SHELL_TIMEOUT="soon" is not a duration`},
		{"bad log level", nil, []string{"serve", "--log-level", "loud"}, 1, `log level "loud"`},
		{"serve without a shell chosen", nil, []string{"serve"}, 1, "--shell pwsh (the Skype for Business management shell, on its host) or --shell sim"},
		{"workers without a shell chosen", nil, []string{"serve", "--role", "workers"}, 1, "--shell sim (a simulated tenant"},
		{"serve with a public URL that is not one", nil, []string{"serve", "--shell", "sim", "--public-url", "cutover.contoso.com"}, 1, `--public-url "cutover.contoso.com" is not an http or https URL`},
		{"unattended workers without a credential", nil, []string{"serve", "--role", "workers", "--shell", "pwsh"}, 1, "For unattended waves give a dedicated account (--pwsh-user, CUTOVER_PWSH_PASSWORD)"},
		{"serve against a national cloud's Graph", nil, []string{"serve", "--shell", "sim", "--graph", "https://graph.microsoft.us/v1.0"}, 1, "is Microsoft Graph for US Government L4 (GCC High): cutover moves users of Microsoft 365's commercial cloud only"},
		{"unreachable database", nil, []string{"migrate", "--database-url", "postgres://postgres:secret@127.0.0.1:1/x?connect_timeout=2"}, 1, "cannot reach Postgres"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := run(t, tt.env, tt.args...)
			require.Equal(t, tt.wantCode, code, stderr)
			require.Contains(t, stderr, tt.wantErr)
			require.NotContains(t, stderr, "secret", "a password reached the output")
		})
	}
}

func TestMigrateCreatesDatabase(t *testing.T) {
	t.Parallel()
	name := dbtest.Name(t, "cutover_clitest")
	url := dbtest.WithDatabase(dbtest.ServerURL(), name)
	for range 2 { // a second run finds nothing to do
		code, stdout, stderr := run(t, map[string]string{"DATABASE_URL": url}, "migrate")
		require.Equal(t, 0, code, stderr)
		require.Contains(t, stdout, "database is up to date")
	}
}
