package main
import (
 _ "github.com/riverqueue/river"
 _ "github.com/riverqueue/river/riverdriver/riverpgxv5"
 _ "github.com/riverqueue/river/rivermigrate"
 _ "github.com/riverqueue/river/rivertest"
 _ "github.com/jackc/pgx/v5"
 _ "github.com/stretchr/testify/require"
)
func main(){}
