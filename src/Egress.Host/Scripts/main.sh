# ---- main.sh: the verbs.
case "${1:-}" in
  apply) require; locked apply; do_apply ;;
  check) do_check ;;
  down) require; find_uplink; locked down; do_down ;;
  status) do_status ;;
  watch | decide) case "|$VERBS|" in *"|$1|"*) "do_$1" "${2:-}" ;; *) echo "usage: $0 $VERBS" >&2; exit 2 ;; esac ;;
  *) echo "usage: $0 $VERBS" >&2; exit 2 ;;
esac
