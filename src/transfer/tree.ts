/**
 * Turns a conversation's source nodes into rows with parent links, in the order they are written:
 * creation order, parents before children. Checks what a hostile file could break: duplicate
 * ids, parents that do not exist, cycles, paths deeper than MAX_DEPTH. No recursion: a file of
 * any shape costs a bounded stack.
 */
import { importError, MAX_DEPTH, MAX_NODES_PER_CONVERSATION, type ImportRow, type SourceConversation, type SourceNode } from './model.js';

/** A row placed in the tree: `parent` is the index of its parent row in the list (or null). */
export interface PlacedRow {
  row: ImportRow;
  parent: number | null;
  /** The node it came from and its index there (context items find their row by these). */
  nodeId: string;
  indexInNode: number;
}

export interface PlacedTree {
  rows: PlacedRow[];
  /** Index of the active leaf row; null when the conversation has no rows. */
  activeLeaf: number | null;
}

const short = (id: string) => (id.length > 80 ? `${id.slice(0, 80)}…` : id);

/** Orders, links and checks the nodes of `conversation`. Throws VAL_2033 / VAL_2034 naming the node. */
export function placeRows(conversation: SourceConversation): PlacedTree {
  const { nodes, label } = conversation;
  if (nodes.length > MAX_NODES_PER_CONVERSATION) {
    throw importError('VAL_2034', label, `it has ${nodes.length} messages; at most ${MAX_NODES_PER_CONVERSATION} are imported per conversation`);
  }
  const byId = new Map<string, { node: SourceNode; index: number }>();
  for (const [index, node] of nodes.entries()) {
    if (byId.has(node.id)) throw importError('VAL_2033', `${label}, node ${short(node.id)}`, 'the id appears twice');
    byId.set(node.id, { node, index });
  }
  for (const node of nodes) {
    if (node.parentId === null) continue;
    if (node.parentId === node.id) throw importError('VAL_2033', `${label}, node ${short(node.id)}`, 'it is its own parent');
    if (!byId.has(node.parentId)) throw importError('VAL_2033', `${label}, node ${short(node.id)}`, `parent ${short(node.parentId)} does not exist`);
  }

  // Creation order (file order for equal times); a node waits until its parent is placed.
  const order = nodes.map((node, index) => ({ node, index }));
  if (!conversation.exact) order.sort((a, b) => a.node.createdAt.getTime() - b.node.createdAt.getTime() || a.index - b.index);
  const waiting = new Map<string, SourceNode[]>();
  /** Per placed node: its last row (where children attach; a skipped node passes on its parent's) and depth. */
  const placed = new Map<string, { attach: number | null; depth: number }>();
  const rows: PlacedRow[] = [];

  const place = (first: SourceNode) => {
    const stack = [first];
    while (stack.length > 0) {
      const node = stack.pop()!;
      const parent = node.parentId === null ? { attach: null, depth: 0 } : placed.get(node.parentId)!;
      let attach = parent.attach;
      let depth = parent.depth;
      for (const [i, row] of node.rows.entries()) {
        rows.push({ row, parent: attach, nodeId: node.id, indexInNode: i });
        attach = rows.length - 1;
        depth += 1;
      }
      if (depth > MAX_DEPTH) {
        throw importError('VAL_2034', `${label}, node ${short(node.id)}`, `the conversation is deeper than ${MAX_DEPTH} messages`);
      }
      placed.set(node.id, { attach, depth });
      const children = waiting.get(node.id);
      if (children) {
        waiting.delete(node.id);
        // Reversed so the earliest child is placed first.
        for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
      }
    }
  };

  for (const { node } of order) {
    if (node.parentId === null || placed.has(node.parentId)) place(node);
    else {
      const list = waiting.get(node.parentId) ?? [];
      list.push(node);
      waiting.set(node.parentId, list);
    }
  }
  if (placed.size < nodes.length) {
    const stuck = nodes.find((n) => !placed.has(n.id))!;
    throw importError('VAL_2033', `${label}, node ${short(stuck.id)}`, 'its chain of parents never reaches a first message: the parent links form a cycle');
  }

  return { rows, activeLeaf: activeLeafOf(conversation, placed, rows) };
}

/** The current node's row (a skipped node: its nearest kept ancestor's); without one, the newest leaf. */
function activeLeafOf(conversation: SourceConversation, placed: Map<string, { attach: number | null }>, rows: PlacedRow[]): number | null {
  if (rows.length === 0 || (conversation.exact && conversation.currentNodeId === null)) return null;
  const current = conversation.currentNodeId === null ? undefined : placed.get(conversation.currentNodeId);
  if (conversation.currentNodeId !== null && current === undefined) {
    throw importError('VAL_2033', conversation.label, `the current message ${short(conversation.currentNodeId)} does not exist`);
  }
  if (current && current.attach !== null) return current.attach;
  const hasChild = new Set(rows.map((r) => r.parent).filter((p): p is number => p !== null));
  let newest = 0;
  for (let i = 0; i < rows.length; i++) {
    if (hasChild.has(i)) continue;
    if (hasChild.has(newest) || rows[i]!.row.createdAt.getTime() >= rows[newest]!.row.createdAt.getTime()) newest = i;
  }
  return newest;
}
