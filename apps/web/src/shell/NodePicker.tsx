import { useEffect, useState } from 'react';
import { TreeSelect } from 'antd';
import { api } from '../api/client';
import type { JurisdictionDetail } from '../api/types';
import { useErrorMessage } from '../api/hooks';

interface TreeNode {
  id: string;
  pId?: string;
  value: string;
  title: string;
  isLeaf?: boolean;
}

/**
 * Pick a node of the jurisdiction tree at or below `rootId`, loading each level from
 * GET /api/jurisdictions/:id when it is opened.
 */
export function NodePicker(props: {
  rootId: string;
  rootName: string;
  value?: string;
  onChange?: (value: string) => void;
  'data-testid'?: string;
}) {
  const { rootId, rootName, value, onChange } = props;
  const showError = useErrorMessage();
  const [nodes, setNodes] = useState<TreeNode[]>([{ id: rootId, value: rootId, title: rootName }]);

  useEffect(() => {
    setNodes([{ id: rootId, value: rootId, title: rootName }]);
  }, [rootId, rootName]);

  async function loadChildren(id: string): Promise<void> {
    try {
      const detail = await api.get<JurisdictionDetail>(`/api/jurisdictions/${id}`);
      setNodes((prev) => {
        const known = new Set(prev.map((n) => n.id));
        const added = detail.children
          .filter((c) => !known.has(c.id))
          .map((c) => ({ id: c.id, pId: id, value: c.id, title: c.name }));
        const next = prev.map((n) => (n.id === id && detail.children.length === 0 ? { ...n, isLeaf: true } : n));
        return [...next, ...added];
      });
    } catch (err) {
      showError(err);
    }
  }

  return (
    <TreeSelect<string>
      data-testid={props['data-testid']}
      treeDataSimpleMode
      treeData={nodes}
      value={value}
      onChange={(v) => onChange?.(v)}
      loadData={(node) => loadChildren(String(node.value))}
      showSearch
      treeNodeFilterProp="title"
      treeDefaultExpandedKeys={[rootId]}
      style={{ width: '100%' }}
      styles={{ popup: { root: { maxHeight: 400, overflow: 'auto' } } }}
    />
  );
}
