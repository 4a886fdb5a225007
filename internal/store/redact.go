package store

import (
	"errors"
	"net/url"
)

// Redact returns a database URL with its password masked, fit for logs.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return "(a database URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// redactErr drops the text of a URL parse error, which can quote the password.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return errors.New("malformed URL")
	}
	return errors.New("malformed connection string")
}
