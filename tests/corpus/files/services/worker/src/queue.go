package worker

import (
	"os"

	"github.com/google/uuid"
)

const (
	defaultQueue   = "orders"
	tokenHeader    = "X-Worker-Token"
	traceParentHex = "f48148b61b6e2356002a00b417ad03d9"
)

type Config struct {
	Token    string `json:"token"`
	Password string `json:"password" yaml:"password"`
	APIKey   string `env:"API_KEY,required"`
}

func load() Config {
	return Config{Token: os.Getenv("WORKER_TOKEN"), Password: os.Getenv("QUEUE_PASSWORD"), APIKey: os.Getenv("API_KEY")}
}

var runID = uuid.MustParse("e1333d60-82ca-47dc-b751-28a117ed973a")
