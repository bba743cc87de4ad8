/**
 * The Python runner that starts every code run, given to `python3 -c`. It reads the user's code
 * from stdin (so no code file has to exist anywhere), runs it as `__main__`, and saves any
 * matplotlib figure still open at exit — or shown with `plt.show()` — as PNG in `output/`.
 * Figures the code saved itself are not saved twice.
 */
export const RUNNER_SOURCE = String.raw`
import os, sys, re, traceback, atexit
_code = sys.stdin.read()
sys.stdin.close()
sys.stdin = open(os.devnull)
_saved = set()

def _free_name(num):
    base = os.path.join('output', 'figure_%d' % num)
    path, i = base + '.png', 1
    while os.path.exists(path):
        path, i = '%s_%d.png' % (base, i), i + 1
    return path

def _save_open_figures():
    plt = sys.modules.get('matplotlib.pyplot')
    if plt is None:
        return
    for num in plt.get_fignums():
        fig = plt.figure(num)
        if id(fig) in _saved:
            continue
        try:
            fig.savefig(_free_name(num), format='png', dpi=100, bbox_inches='tight')
            _saved.add(id(fig))
        except Exception as exc:
            print('Could not save figure %d: %s' % (num, exc), file=sys.stderr)

def _patch_matplotlib():
    try:
        import matplotlib
        matplotlib.use('Agg')
        from matplotlib.figure import Figure
        import matplotlib.pyplot as plt
    except Exception:
        return
    original = Figure.savefig
    def savefig(self, *args, **kwargs):
        _saved.add(id(self))
        return original(self, *args, **kwargs)
    Figure.savefig = savefig
    def show(*args, **kwargs):
        _save_open_figures()
        plt.close('all')
    plt.show = show

if re.search(r'matplotlib|plt\b|\.plot\b|\.hist\b|plot\(|figure', _code):
    _patch_matplotlib()
atexit.register(_save_open_figures)

_globals = {'__name__': '__main__', '__builtins__': __builtins__}
try:
    exec(compile(_code, '<code>', 'exec'), _globals)
except SystemExit:
    raise
except BaseException as exc:
    # Show the traceback from the user's code down, without this runner's frame.
    traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next)
    sys.exit(1)
`;
