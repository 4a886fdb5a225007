package bench

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// The benchmarks' statements: one a file in sql/, named by the file's name
// without ".sql", with a comment that says what it is for.
//
//go:embed sql/*.sql
var sqlFiles embed.FS

// statements are the embedded statements by name.
var statements = func() map[string]string {
	files, err := fs.Glob(sqlFiles, "sql/*.sql")
	if err != nil {
		panic(err)
	}
	m := make(map[string]string, len(files))
	for _, f := range files {
		text, err := sqlFiles.ReadFile(f)
		if err != nil {
			panic(err)
		}
		m[strings.TrimSuffix(path.Base(f), ".sql")] = strings.TrimSpace(string(text))
	}
	return m
}()

// used are the statements the code names, for the test that every file is
// used.
var used = map[string]bool{}

// statement returns the embedded statement name. It is called when the
// package is initialized, so a name without a file fails every run and
// test at once.
func statement(name string) string {
	text, ok := statements[name]
	if !ok {
		panic(fmt.Sprintf("bench: no statement sql/%s.sql", name))
	}
	used[name] = true
	return text
}
