package sim

import "net/http"

// logout serves the end session endpoint.
func (s *SignIn) logout(w http.ResponseWriter, r *http.Request) {
	t := r.PathValue("tenant")
	if !s.knownTenant(t) {
		s.errorPage(w, errTenant(t))
		return
	}
	_ = r.ParseForm()
	s.mu.Lock()
	s.signedOut++
	s.mu.Unlock()
	// post_logout_redirect_uri: "The URL that the user is redirected to
	// after successfully signing out. If the parameter isn't included, the
	// user is shown a generic message ... This URL must match one of the
	// redirect URIs registered for your application" (oidc). One that
	// matches none gets the generic message too.
	if u := r.Form.Get("post_logout_redirect_uri"); u != "" && s.allowedRedirectURI(u) {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, u, http.StatusFound)
		return
	}
	s.page(w, http.StatusOK, signedOutPage, pageData{Title: "Signed out"})
}
