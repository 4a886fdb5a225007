package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

func runStatus(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) error {
	f := newFlags("status", "status [flags] UPN-or-SIP-address", getenv, stderr)
	var c common
	var asJSON bool
	c.register(f)
	f.BoolVar(&asJSON, "json", false, "print the status as JSON")
	if err := f.parse(args, 1); err != nil {
		return err
	}
	pool, err := store.Open(ctx, c.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc := app.New(pool, nil)
	saySimulated(ctx, svc, stderr)
	st, err := svc.LookUp(ctx, f.Arg(0), time.Now())
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(stdout, st)
	}
	printStatus(stdout, st)
	return nil
}

// printStatus writes the helpdesk view of a user for a terminal: where
// they stand, then every move of theirs, newest first, each with its
// timeline.
func printStatus(w io.Writer, st app.UserStatus) {
	name := st.DisplayName
	if name == "" {
		name = st.UPN
	}
	fmt.Fprintf(w, "%s <%s>  sip:%s\n\n", name, st.UPN, st.SIP)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	where := ""
	if st.Move != nil {
		where = fmt.Sprintf(" (%s of %s)", st.Move.WaveName, st.Move.GroupName)
	} else if len(st.Groups) > 0 {
		where = fmt.Sprintf(" (pilot group %s)", st.Groups[0].GroupName)
	}
	fmt.Fprintf(tw, "Where:\t%s\n", st.Place.Words())
	fmt.Fprintf(tw, "State:\t%s%s\n", migration.OutcomeOf(st.State).Words(), where)
	fmt.Fprintf(tw, "Summary:\t%s\n", st.Explanation.Summary)
	fmt.Fprintf(tw, "The user:\t%s\n", st.Explanation.Expect)
	fmt.Fprintf(tw, "Next:\t%s\n", st.Explanation.Next)
	if st.Error != nil {
		kind := "permanent"
		if st.Error.Transient {
			kind = "transient: retried automatically"
		}
		fmt.Fprintf(tw, "Error:\t%s (%s)\n", st.Error.Code, kind)
		if st.Move != nil && st.Move.ErrorMessage != "" {
			fmt.Fprintf(tw, "Message:\t%s\n", st.Move.ErrorMessage)
		}
	}
	if st.Move != nil && st.Move.Attempts > 0 {
		fmt.Fprintf(tw, "Attempts:\t%d of %d\n", st.Move.Attempts, st.Move.MaxAttempts)
	}
	tw.Flush()
	if len(st.Completion) > 0 {
		fmt.Fprintf(w, "\nAfter the move:\n")
		for _, it := range st.Completion {
			fmt.Fprintf(w, "  %s: %s. %s\n", it.Kind.Words(), it.State.Words(), it.Says)
			if it.Message != "" {
				fmt.Fprintf(w, "    Microsoft says: %s\n", it.Message)
			}
			if it.Fix != "" {
				fmt.Fprintf(w, "    What to do: %s\n", it.Fix)
			}
			if it.Evidence != "" {
				fmt.Fprintf(w, "    Seen: %s\n", it.Evidence)
			}
		}
	}
	if pf := st.Preflight; pf != nil {
		fmt.Fprintf(w, "\nPre-flight in Entra ID (%s): %s\n", pf.CheckedAt.Local().Format("2006-01-02 15:04:05"), pf.Status)
		printChecks(w, pf.Checks)
	}
	for i, m := range st.Moves {
		now := ""
		if m.Current {
			now = ", where the user stands now"
		}
		fmt.Fprintf(w, "\nMove %d of %d: %s of %s, %s%s\n", len(st.Moves)-i, len(st.Moves), m.WaveName, m.GroupName,
			migration.OutcomeOf(m.State).Words(), now)
		if m.Error != nil {
			fmt.Fprintf(w, "  Error: %s: %s\n", m.Error.Code, m.Error.Explanation)
		}
		if r := m.RollbackRecord; r != nil {
			fmt.Fprintf(w, "  Rollback record: pool %s, %s, captured %s\n", r.RegistrarPool, r.VoiceWords(), r.CapturedAt.Local().Format("2006-01-02 15:04:05"))
		}
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, e := range m.Timeline {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", e.At.Local().Format("2006-01-02 15:04:05"), e.State, e.Message, e.Actor)
		}
		tw.Flush()
	}
}

// saySimulated writes, on standard error (the output stays the answer),
// that the deployment runs against a simulated tenant, when it does.
func saySimulated(ctx context.Context, svc *app.Service, w io.Writer) {
	if sim, err := svc.Simulated(ctx); err == nil {
		sayIfSimulated(w, sim)
	}
}

// sayIfSimulated writes the banner of what is simulated, if anything is.
func sayIfSimulated(w io.Writer, sim store.Simulated) {
	if sim.Any() {
		fmt.Fprintln(w, "SIMULATED TENANT: "+sim.Says())
	}
}

// simulated says which of this command's own shell and Graph are the
// simulated tenant's.
func (k checkFlags) simulated() store.Simulated {
	return store.Simulated{Shell: k.sh.simulated(), Graph: k.gf.Graph == "sim"}
}
