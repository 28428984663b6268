package worker

import (
	"os"

	"github.com/google/uuid"
)

const (
	defaultQueue   = "orders"
	tokenHeader    = "X-Worker-Token"
	traceParentHex = "5ba6d264c6fc2b434948f494f7018766"
)

type Config struct {
	Token    string `json:"token"`
	Password string `json:"password" yaml:"password"`
	APIKey   string `env:"API_KEY,required"`
}

func load() Config {
	return Config{Token: os.Getenv("WORKER_TOKEN"), Password: os.Getenv("QUEUE_PASSWORD"), APIKey: os.Getenv("API_KEY")}
}

var runID = uuid.MustParse("f4adca46-c5d9-4277-804b-0e9e2fd198a4")
