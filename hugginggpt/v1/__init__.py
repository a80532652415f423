"""Generated from protos/hugginggpt/v1 by scripts/gen_protos.sh; do not edit."""
