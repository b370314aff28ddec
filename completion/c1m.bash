# bash completion for c1m-server, c1m-epoll, c1m-client, c1m-doctor and c1m-tuning (bash-completion's
# conventions; installed once as c1m-server, the other names are links). The options come from the
# program's own --help, so they never drift from the parser; only what a value can be is listed here.

# _c1m_options CMD: every option CMD's --help names (-n, --max-connections, ...), one a line.
_c1m_options()
{
	"$1" --help 2>/dev/null | grep -oE -- '(^|[[:space:][|,(])--?[a-z][a-z0-9-]*' | sed 's/^[^-]*//' | sort -u
}

_c1m()
{
	local cur prev words cword split
	_init_completion -s || return

	case $prev in
	--role)
		COMPREPLY=($(compgen -W 'server client both' -- "$cur"))
		return ;;
	--workers)
		COMPREPLY=($(compgen -W 'auto' -- "$cur"))
		return ;;
	--proto)
		COMPREPLY=($(compgen -W 'echo http redis mqtt ws' -- "$cur"))
		return ;;
	--ws-mode)
		COMPREPLY=($(compgen -W 'echo ping' -- "$cur"))
		return ;;
	--from | --baseline | --save-baseline | --state | --ca)
		_filedir
		return ;;
	--json)
		# c1m-client --json FILE|-; the doctor's --json takes no value
		if [[ ${words[0]##*/} == c1m-client ]]; then
			_filedir
			return
		fi ;;
	--doctor | --fleet-step)
		_filedir
		return ;;
	--only)
		# sysctl keys, comma-separated: offer the one being typed
		COMPREPLY=($(compgen -W '$(sysctl -aN 2>/dev/null)' -- "${cur##*,}"))
		return ;;
	--bind | --port | --ports | --backlog | --max-connections | --stats-interval | --idle-timeout | \
	--high-watermark | --drain-timeout | --metrics | -n | --connections | --sources | --rate | \
	--concurrency | --hold | --connect-timeout | --echo-timeout | --progress-interval | --msg-rate | \
	--duration | --timeout | --slo | --send-window | --step | --dst-addrs | --user-bytes | --active | \
	--bytes-per-active | --since | --for | --cpus | --keepalive | --sni)
		return ;; # a number or an address: nothing to offer
	esac
	$split && return

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '$(_c1m_options "$1")' -- "$cur"))
	fi
} &&
	complete -F _c1m c1m-server c1m-epoll c1m-client c1m-doctor c1m-tuning

# ex: filetype=sh
