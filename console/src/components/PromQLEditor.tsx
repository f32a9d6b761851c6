import {
  autocompletion,
  closeBrackets,
  closeBracketsKeymap,
  completionKeymap,
  completionStatus,
} from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { bracketMatching, defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { EditorState, Prec } from '@codemirror/state';
import { EditorView, keymap, placeholder } from '@codemirror/view';
import { PromQLExtension } from '@prometheus-io/codemirror-promql';
import { useEffect, useRef } from 'react';

/** The nonce the server put in this page's CSP; CodeMirror's injected styles must carry it. */
function cspNonce(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[property="csp-nonce"]');
  return meta?.nonce || meta?.getAttribute('nonce') || '';
}

const theme = EditorView.theme({
  '&': {
    fontSize: '13px',
    border: '1px solid var(--border-strong)',
    borderRadius: '6px',
    background: 'var(--input-bg)',
    color: 'var(--text)',
  },
  '&.cm-focused': { outline: '2px solid var(--focus)', outlineOffset: '1px' },
  '.cm-content': { fontFamily: 'var(--mono)', padding: '8px 4px', caretColor: 'var(--text)' },
  '.cm-placeholder': { color: 'var(--text-muted)' },
  '.cm-tooltip': {
    background: 'var(--surface)',
    color: 'var(--text)',
    border: '1px solid var(--border-strong)',
  },
  '.cm-tooltip-autocomplete ul li[aria-selected]': { background: 'var(--accent)', color: '#fff' },
  '.cm-completionDetail': { color: 'var(--text-muted)', marginLeft: '8px' },
});

/**
 * A PromQL editor with autocompletion of metric names, labels and values from this org's data
 * (codemirror-promql against /prometheus, with the session cookie). Enter runs the query
 * (unless a completion is open), Shift+Enter inserts a line break.
 */
export function PromQLEditor({
  value,
  onChange,
  onRun,
}: {
  value: string;
  onChange(v: string): void;
  onRun(v: string): void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const handlers = useRef({ onChange, onRun });
  handlers.current = { onChange, onRun };

  useEffect(() => {
    const promql = new PromQLExtension().setComplete({
      remote: {
        url: '/prometheus',
        httpMethod: 'POST',
        cache: { initialMetricList: [] },
        httpErrorHandler: () => undefined,
      },
    });
    const state = EditorState.create({
      doc: value,
      extensions: [
        EditorView.cspNonce.of(cspNonce()),
        history(),
        closeBrackets(),
        bracketMatching(),
        autocompletion(),
        syntaxHighlighting(defaultHighlightStyle),
        placeholder('PromQL, e.g. rate(node_network_receive_bytes_total[5m])'),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ 'aria-label': 'PromQL query', 'aria-multiline': 'true' }),
        theme,
        promql.asExtension(),
        Prec.highest(
          keymap.of([
            {
              key: 'Enter',
              run: (v) => {
                if (completionStatus(v.state) === 'active') return false;
                handlers.current.onRun(v.state.doc.toString());
                return true;
              },
            },
          ]),
        ),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap]),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) handlers.current.onChange(u.state.doc.toString());
        }),
      ],
    });
    view.current = new EditorView({ state, parent: host.current! });
    return () => {
      view.current?.destroy();
      view.current = null;
      promql.destroy();
    };
    // The editor owns its text after creation; `value` only seeds it.
  }, []);

  return <div ref={host} className="promql-editor" />;
}
