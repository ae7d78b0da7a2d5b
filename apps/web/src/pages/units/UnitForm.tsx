import { useState } from 'react';
import { App, Button, Col, Divider, Form, Input, InputNumber, Modal, Row, Select, Space } from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../../api/client';
import { useApi, useErrorMessage } from '../../api/hooks';
import type { UserView } from '../../api/types';
import { useSession } from '../../auth/session';
import { NodePicker } from '../../shell/NodePicker';
import { roleLabel } from '../../shell/labels';
import { STATION_FUNCTIONS, UNIT_TYPES, useIdempotencyKey, type StaffingSlot, type UnitView } from './api';

interface Values {
  callSign: string;
  name: string;
  type: string;
  homeNodeId: string;
  memberIds: string[];
  notes?: string;
  address?: string;
  phone?: string;
  lon?: number;
  lat?: number;
  functions?: string[];
  staffing?: StaffingSlot[];
}

/** Create or edit a unit; a service station also has a place, its service functions and staffing by time of day. */
export function UnitForm(props: { unit: UnitView | null; onClose: () => void; onSaved: (u: UnitView) => void }) {
  const { unit, onClose, onSaved } = props;
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const session = useSession();
  const showError = useErrorMessage();
  const keyFor = useIdempotencyKey();
  const [form] = Form.useForm<Values>();
  const [saving, setSaving] = useState(false);
  const type = Form.useWatch('type', form) ?? unit?.type;
  const users = useApi((signal) => api.get<{ items: UserView[] }>('/api/users', { query: { limit: 1000 }, signal }), []);

  const initial: Partial<Values> = unit
    ? {
        callSign: unit.callSign,
        name: unit.name,
        type: unit.type,
        homeNodeId: unit.homeNodeId,
        memberIds: unit.members.map((m) => m.id),
        notes: unit.notes ?? undefined,
        address: unit.station?.address ?? undefined,
        phone: unit.station?.phone ?? undefined,
        lon: unit.station?.lon,
        lat: unit.station?.lat,
        functions: unit.station?.functions ?? [],
        staffing: unit.station?.staffing ?? [],
      }
    : { type: 'patrol_car', homeNodeId: session.user.nodeId, memberIds: [], functions: ['reception'], staffing: [{ from: '08:00', to: '20:00', staff: 2 }] };

  async function submit() {
    let v: Values;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    const station =
      v.type === 'service_station'
        ? {
            ...(v.address?.trim() ? { address: v.address.trim() } : {}),
            ...(v.phone?.trim() ? { phone: v.phone.trim() } : {}),
            lon: Number(v.lon),
            lat: Number(v.lat),
            functions: v.functions ?? [],
            staffing: (v.staffing ?? []).map((s) => ({ from: s.from, to: s.to, staff: Number(s.staff) })),
          }
        : undefined;
    setSaving(true);
    try {
      let saved: UnitView;
      if (unit) {
        saved = await api.patch<UnitView>(`/api/units/${unit.id}`, {
          callSign: v.callSign,
          name: v.name,
          homeNodeId: v.homeNodeId,
          memberIds: v.memberIds ?? [],
          notes: v.notes ?? '',
          ...(station ? { station } : {}),
        });
        void message.success(t('units.common.saved'));
      } else {
        const body = {
          callSign: v.callSign,
          name: v.name,
          type: v.type,
          homeNodeId: v.homeNodeId,
          memberIds: v.memberIds ?? [],
          ...(v.notes ? { notes: v.notes } : {}),
          ...(station ? { station } : {}),
        };
        saved = await api.post<UnitView>('/api/units', body, { headers: { 'Idempotency-Key': keyFor(body) } });
        void message.success(t('units.board.created', { callSign: saved.callSign }));
      }
      onSaved(saved);
    } catch (err) {
      if (err instanceof ApiError && err.issues.length) {
        form.setFields(
          err.issues.map((i) => {
            const parts = i.field.replace(/^body\./, '').split('.');
            const name = parts[0] === 'station' ? parts.slice(1, 2) : parts.slice(0, 1);
            return { name: name as never, errors: [i.message] };
          }),
        );
      }
      showError(err);
    } finally {
      setSaving(false);
    }
  }

  const required = [{ required: true, message: t('units.board.required') }];
  return (
    <Modal
      open
      width={720}
      title={unit ? t('units.board.editTitle', { callSign: unit.callSign }) : t('units.board.createTitle')}
      onCancel={onClose}
      onOk={() => void submit()}
      okText={t('units.common.save')}
      cancelText={t('units.common.cancel')}
      confirmLoading={saving}
      destroyOnHidden
      data-testid="unit-form"
    >
      <Form form={form} layout="vertical" initialValues={initial} requiredMark="optional">
        <Row gutter={12}>
          <Col span={8}>
            <Form.Item name="callSign" label={t('units.board.callSign')} rules={required}>
              <Input maxLength={40} data-testid="unit-form-callsign" />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item name="name" label={t('units.board.name')} rules={required}>
              <Input maxLength={80} data-testid="unit-form-name" />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item name="type" label={t('units.board.type')} rules={required}>
              <Select disabled={!!unit} options={UNIT_TYPES.map((x) => ({ value: x, label: t(`units.types.${x}`) }))} data-testid="unit-form-type" />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item name="homeNodeId" label={t('units.board.homeNode')} rules={required}>
          <NodePicker rootId={session.user.nodeId} rootName={session.user.nodeName} />
        </Form.Item>
        <Form.Item name="memberIds" label={t('units.board.members')}>
          <Select
            mode="multiple"
            showSearch
            optionFilterProp="label"
            loading={users.loading}
            options={(users.data?.items ?? [])
              .filter((u) => !u.disabled)
              .map((u) => ({ value: u.id, label: `${u.displayName}（${roleLabel(u.role, i18n.language)} · ${u.nodeName}）` }))}
            data-testid="unit-form-members"
          />
        </Form.Item>
        <Form.Item name="notes" label={t('units.board.notes')}>
          <Input.TextArea rows={2} maxLength={1000} />
        </Form.Item>
        {type === 'service_station' ? (
          <>
            <Divider titlePlacement="start" plain>
              {t('units.board.stationSection')}
            </Divider>
            <Row gutter={12}>
              <Col span={12}>
                <Form.Item name="address" label={t('units.board.address')}>
                  <Input maxLength={200} />
                </Form.Item>
              </Col>
              <Col span={12}>
                <Form.Item name="phone" label={t('units.board.phone')}>
                  <Input maxLength={20} />
                </Form.Item>
              </Col>
              <Col span={12}>
                <Form.Item name="lon" label={t('units.board.lon')} rules={required}>
                  <InputNumber min={-180} max={180} step={0.0001} style={{ width: '100%' }} />
                </Form.Item>
              </Col>
              <Col span={12}>
                <Form.Item name="lat" label={t('units.board.lat')} rules={required}>
                  <InputNumber min={-90} max={90} step={0.0001} style={{ width: '100%' }} />
                </Form.Item>
              </Col>
            </Row>
            <Form.Item name="functions" label={t('units.board.functions')}>
              <Select mode="tags" options={STATION_FUNCTIONS.map((f) => ({ value: f, label: t(`units.functions.${f}`) }))} />
            </Form.Item>
            <Form.Item label={t('units.board.staffing')}>
              <Form.List name="staffing">
                {(fields, { add, remove }) => (
                  <Space direction="vertical" style={{ width: '100%' }}>
                    {fields.map((f) => (
                      <Space key={f.key} align="baseline">
                        <Form.Item name={[f.name, 'from']} rules={[{ pattern: /^([01]\d|2[0-3]):[0-5]\d$/, message: 'HH:MM' }, ...required]} noStyle>
                          <Input placeholder={t('units.board.staffFrom')} style={{ width: 90 }} />
                        </Form.Item>
                        <span>–</span>
                        <Form.Item name={[f.name, 'to']} rules={[{ pattern: /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, message: 'HH:MM' }, ...required]} noStyle>
                          <Input placeholder={t('units.board.staffTo')} style={{ width: 90 }} />
                        </Form.Item>
                        <Form.Item name={[f.name, 'staff']} rules={required} noStyle>
                          <InputNumber min={0} max={500} placeholder={t('units.board.staff')} style={{ width: 90 }} />
                        </Form.Item>
                        <MinusCircleOutlined onClick={() => remove(f.name)} />
                      </Space>
                    ))}
                    <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({ from: '08:00', to: '20:00', staff: 1 })}>
                      {t('units.board.addSlot')}
                    </Button>
                  </Space>
                )}
              </Form.List>
            </Form.Item>
          </>
        ) : null}
      </Form>
    </Modal>
  );
}
