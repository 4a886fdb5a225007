package migration_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	"github.com/cutover/cutover/internal/migration"
)

// The fuzz targets hold what bad input must never do: panic, or come back
// as anything but an error naming what is wrong. Their seed corpus is in
// testdata/fuzz; .ci/run fuzzes each briefly.

// userError checks that err is one a person is shown: invalid or malformed
// input, with a message.
func userError(t *testing.T, err error) {
	t.Helper()
	var e *migration.Error
	if !errors.As(err, &e) {
		t.Fatalf("not a user's error: %T %v", err, err)
	}
	if e.Kind != migration.EInvalid && e.Kind != migration.EMalformed && e.Kind != migration.ETooLarge {
		t.Fatalf("kind %q for bad input: %v", e.Kind, err)
	}
	if e.Message == "" || !utf8.ValidString(e.Message) {
		t.Fatalf("message %q", e.Message)
	}
}

func FuzzParseMembersCSV(f *testing.F) {
	f.Add([]byte("upn\nalice@contoso.com\n"))
	f.Add([]byte("\xef\xbb\xbfUserPrincipalName,SipAddress,DisplayName\r\nbob@contoso.com,sip:Bob@Contoso.com,\"Bob, B\"\r\n"))
	f.Add([]byte("upn,sip\nx@y.z,\n\n\"unterminated"))
	f.Add([]byte("name\nalice\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := migration.ParseMembersCSV(data)
		// However the input is cut as it is read, the answer is the same
		// (a stream yields the members before a problem; they are not kept).
		members, ignored, cutErr := readCSV(iotest.OneByteReader(bytes.NewReader(data)))
		if cutErr != nil {
			members, ignored = nil, nil
		}
		if !reflect.DeepEqual(err, cutErr) || !reflect.DeepEqual(res.Members, members) || !reflect.DeepEqual(res.IgnoredColumns, ignored) {
			t.Fatalf("read a byte at a time: %v %v %v; at once: %v %v %v", members, ignored, cutErr, res.Members, res.IgnoredColumns, err)
		}
		if err != nil {
			userError(t, err)
			return
		}
		seen := map[string]bool{}
		for _, m := range res.Members {
			if m.UPN != strings.ToLower(m.UPN) || !strings.Contains(m.UPN, "@") || seen[m.UPN] {
				t.Fatalf("member %+v accepted", m)
			}
			seen[m.UPN] = true
		}
	})
}

func FuzzParseShorthand(f *testing.F) {
	f.Add("canary 10, then waves of 50 every 1h, starting at 2026-11-23T22:00:00Z", 500)
	f.Add("canary 1 then waves of 1 every 90s starting now", 3)
	f.Add("CANARY 5, THEN WAVES OF 5 EVERY 1D, STARTING IN 2H", 0)
	f.Add("canary 99999999999999999999, then waves of 1 every 1s, starting now", 10)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string, users int) {
		sh, err := migration.ParseShorthand(s, now)
		if err != nil {
			userError(t, err)
			return
		}
		if sh.Canary < 1 || sh.WaveSize < 1 || sh.Every <= 0 {
			t.Fatalf("%q parsed to %+v", s, sh)
		}
		users = max(0, min(users, 100000))
		waves, err := sh.Waves(users, 1, 0, 0)
		if err != nil {
			userError(t, err)
			return
		}
		if _, err := migration.CheckWaves(waves, users, 1); err != nil {
			userError(t, err)
		}
	})
}

func FuzzParseWindow(f *testing.F) {
	f.Add("mon-fri 22:00-05:00")
	f.Add("sat,sun 00:00-24:00")
	f.Add("daily 1:5-2:00")
	f.Fuzz(func(t *testing.T, s string) {
		w, err := migration.ParseWindow(s)
		if err != nil {
			return
		}
		again, err := migration.ParseWindow(w.String())
		if err != nil || again.String() != w.String() || again.Days != w.Days {
			t.Fatalf("%q normalised to %q, which reads back as %q (%v)", s, w, again, err)
		}
	})
}
