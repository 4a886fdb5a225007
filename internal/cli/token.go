package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/store"
)

const tokenUsage = `token create --role helpdesk|lead|admin --name NAME | list | revoke ID-or-NAME`

func runToken(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) error {
	f := newFlags("token", tokenUsage, getenv, stderr)
	var c common
	var role, name string
	c.register(f)
	f.StringVar(&role, "role", "", "the token's role: helpdesk (looks users up), lead (runs migrations) or admin (also manages tokens)")
	f.StringVar(&name, "name", "", "who or what the token is for (shown in the audit log and timelines)")
	action, err := f.action(args)
	if err != nil {
		return err
	}
	want := map[string]int{"create": 0, "list": 0, "revoke": 1}
	if n, ok := want[action]; !ok || f.NArg() != n {
		fmt.Fprintf(stderr, "cutover token: want create, list or revoke ID-or-NAME; got %q %v\n", action, f.Args())
		f.Usage()
		return errUsage
	}
	pool, err := store.Open(ctx, c.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	who := cliActor(getenv)
	svc := app.New(pool, nil)
	saySimulated(ctx, svc, stderr)
	switch action {
	case "create":
		a := app.Actor{Name: who, Action: app.AuditTokenCreate, Target: "token " + name, Written: new(bool)}
		t, secret, err := svc.TokenCreate(ctx, a, name, auth.Role(role))
		auditCLI(ctx, svc, a, err)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n\nToken %d %q (%s). It is shown this once: cutover keeps only its hash.\nSend it as: Authorization: Bearer <token>\n", secret, t.ID, t.Name, t.Role)
		return nil
	case "revoke":
		a := app.Actor{Name: who, Action: app.AuditTokenRevoke, Target: "token " + f.Arg(0), Written: new(bool)}
		t, err := svc.TokenRevoke(ctx, a, f.Arg(0))
		auditCLI(ctx, svc, a, err)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %d %q revoked\n", t.ID, t.Name)
		return nil
	}
	tokens, err := svc.Tokens(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tBY\tLAST USED\tREVOKED")
	for _, t := range tokens {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.CreatedAt.Local().Format(time.DateTime), t.CreatedBy, stampOr(t.LastUsedAt, "never"), stampOr(t.RevokedAt, ""))
	}
	return tw.Flush()
}

func stampOr(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return t.Local().Format(time.DateTime)
}

// auditCLI records a change refused or failed at the command line, unless
// the use case recorded it (a.Written): a refusal before the use case
// (input the command could not read) is the command line's own.
func auditCLI(ctx context.Context, svc *app.Service, a app.Actor, err error) {
	if err == nil {
		return
	}
	_ = svc.Record(context.WithoutCancel(ctx), a, err)
}
