"""Generated from protos/wasmd/v1/admin.proto by scripts/gen_protos.sh; do not edit."""
