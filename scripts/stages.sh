# Sourced by the scripts that turn the pipeline into scheduler jobs (scripts/slurm/submit, scripts/k8s/render):
# which stages split their items (they offer --shard; their --help says so), and how a stage is invoked
# (the Makefile's STAGE_CMD_*: pretrain-<x> is `pretrain <x>`).

# sharded <stage>: true for the per-item stages that take --shard k/N.
sharded() { case $1 in generate-pool|patch-quality|bench|dpo-train) return 0 ;; *) return 1 ;; esac; }

# stage_command <bin dir> <stage>: the executable and subcommand of a stage.
stage_command() { case $2 in pretrain-*) echo "$1/pretrain ${2#pretrain-}" ;; *) echo "$1/$2" ;; esac; }
