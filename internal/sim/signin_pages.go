package sim

import (
	"embed"
	"html/template"
	"net/http"
	"strings"
)

// The simulated sign-in's pages, rendered on the server from the templates
// in web/. They are plain, with no script at all: labelled fields, an error
// announced by role="alert" and tied to the field it is about, text at
// least 4.5:1 against its background, and a layout that fits a phone.

// signInWeb holds the pages' templates, one file each under web/:
// signin_layout.html frames every page and shows the "content" that
// signin_form.html, signin_error.html and signed_out.html each define.
//
//go:embed web/*.html
var signInWeb embed.FS

// signInLayout is the pages' frame, parsed once; each page is a copy of it
// with its own content.
var signInLayout = template.Must(template.ParseFS(signInWeb, "web/signin_layout.html"))

var (
	signInFormPage  = signInTemplate("web/signin_form.html")
	signInErrorPage = signInTemplate("web/signin_error.html")
	signedOutPage   = signInTemplate("web/signed_out.html")
)

// signInTemplate is the layout with the content a page's file defines, for
// page to execute as "page".
func signInTemplate(file string) *template.Template {
	return template.Must(template.Must(signInLayout.Clone()).ParseFS(signInWeb, file))
}

// pageData is what a page shows.
type pageData struct {
	Title, Nonce string
	// The sign-in page's.
	Action, Username, Error string
	Hidden                  []hiddenField
	Accounts                []accountRow
	// The error page's.
	Message, Trace, Correlation, Timestamp string
}

type accountRow struct{ UPN, Name, Roles string }

// signInPage shows the sign-in form for a request, with an error when the
// last attempt failed.
func (s *SignIn) signInPage(w http.ResponseWriter, status int, q signInRequest, username, errText string) {
	d := pageData{
		Title: "Sign in to your account", Action: "authorize", Username: username, Error: errText, Hidden: q.hidden(),
	}
	for _, a := range s.cfg.Accounts {
		roles := "no app role"
		if len(a.Roles) > 0 {
			roles = strings.Join(a.Roles, ", ")
		}
		d.Accounts = append(d.Accounts, accountRow{UPN: a.UPN, Name: a.Name, Roles: roles})
	}
	s.page(w, status, signInFormPage, d)
}

// errorPage shows an error that cannot go back to the app.
func (s *SignIn) errorPage(w http.ResponseWriter, e signInError) {
	status := e.status
	if status == 0 {
		status = http.StatusBadRequest
	}
	s.page(w, status, signInErrorPage, pageData{
		Title: "Sign-in error", Message: e.description(),
		Trace: newGUID(), Correlation: newGUID(), Timestamp: s.cfg.Now().UTC().Format("2006-01-02 15:04:05Z"),
	})
}

func (s *SignIn) page(w http.ResponseWriter, status int, t *template.Template, d pageData) {
	d.Nonce = randomToken()
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	// No script may run; the one style block is allowed by its nonce. There
	// is no form-action: browsers apply it to the redirect that follows the
	// form, which goes to the app.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+d.Nonce+"'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = t.ExecuteTemplate(w, "page", d)
}
