/** Strings of the mediation pages (apps/web/src/pages/mediation/**), Chinese and English. */

export const mediationZh = {
  nav: { cases: '矛盾纠纷', worklist: '我的调解工作', figures: '化解统计' },
  desc: {
    cases: '纠纷登记、滚动排查、风险分级、调解、协议与回访，一案一档。',
    worklist: '分配给我的案件、紧急任务、到期回访和待确认的调解邀请。',
    figures: '按辖区、类型、月份统计排查数、调解成功率、化解天数与复发率，可导出 Excel。',
  },
  types: {
    neighbours: '邻里纠纷', noise: '噪声扰民', family: '家庭纠纷', marriage: '婚姻纠纷', labour: '劳动及工伤赔偿', land_housing: '土地房屋',
    debt: '债务纠纷', traffic_accident: '交通事故', consumer: '消费纠纷', other: '其他',
  },
  sources: { patrol_visit: '走访排查', village_stay: '驻村', call: '警情（110）', walk_in: '来所求助', partner: '部门移交' },
  status: { open: '待调解', mediating: '调解中', agreed: '已达成协议', resolved: '化解成功', transferred: '已移交', failed: '调解不成', withdrawn: '已撤回' },
  risk: { low: '低风险', medium: '中风险', high: '高风险', critical: '重大风险' },
  factors: {
    threats: '有扬言报复、威胁', priorViolence: '曾有肢体冲突', weapons: '涉及器械、刀具', selfHarm: '有自伤自杀倾向', manyPeople: '涉及人数多',
    moneyAtStake: '涉及金额较大', repeatedCalls: '反复报警求助',
  },
  bodies: { station: '派出所', committee: '人民调解委员会', justice_office: '司法所', law_firm: '律师事务所' },
  targets: { court: '法院', labour_arbitration: '劳动仲裁', justice_office: '司法所', petition_office: '信访部门', other: '其他' },
  sides: { applicant: '申请方', respondent: '被申请方', other: '其他' },
  assign: { proposed: '待确认', accepted: '已接受', declined: '已拒绝', withdrawn: '已撤回' },
  terms: { pending: '待履行', fulfilled: '已履行', breached: '未履行' },
  followUp: { scheduled: '待回访', done: '已回访', cancelled: '已取消' },
  agreement: { proposed: '拟定', signed: '已签署', superseded: '已作废' },
  events: {
    registered: '登记', risk: '风险评估', risk_raised: '风险升级，已派紧急任务并通知所领导', reviewed: '滚动排查', mediator_proposed: '邀请调解员',
    mediator_accepted: '调解员接受', mediator_declined: '调解员拒绝', session: '调解', agreement_proposed: '拟定协议', agreement_signed: '签署协议',
    agreement_file: '上传协议书', term: '履行情况', follow_up: '回访', reopened: '重新启动', transferred: '移交', closed: '结案', task_done: '任务完成',
  },
  tasks: { risk_urgent: '紧急任务', follow_up: '到期回访', consent: '待确认调解' },
  list: {
    title: '矛盾纠纷', register: '登记纠纷', state: '范围', active: '在办', closed: '已结', all: '全部', type: '类型', risk: '风险', overdue: '超期未排查',
    mine: '我负责的', search: '编号或标题', number: '编号', caseTitle: '纠纷', grid: '网格', parties: '当事人', mediators: '调解员', registeredAt: '登记时间',
    nextFollowUp: '下次回访', cases: '案件', screening: '滚动排查', reviewInterval: '排查周期 {{days}} 天', open: '在办', highRisk: '高风险', rising: '上升趋势',
    new30: '近30天新增', prev30: '前30天', empty: '暂无纠纷',
  },
  form: {
    incident: '关联警情', incidentHint: '从警情登记时，地点取自警情', source: '来源', type: '类型', title: '标题', description: '纠纷情况', history: '历史情况',
    grid: '所在网格', address: '地址', parties: '当事人', addParty: '添加当事人', person: '个人', organisation: '单位', name: '姓名/名称', phone: '电话',
    idNumber: '身份证号', demand: '诉求', side: '身份', riskCheck: '风险排查', level: '研判等级', levelHint: '不填则按清单自动评定', note: '说明',
    submit: '提交', cancel: '取消', placeRequired: '请选择网格或关联警情',
  },
  detail: {
    reveal: '查看完整信息', revealed: '已显示完整信息（已记录审计）', officer: '责任民警', place: '地点', station: '派出所', registered: '登记',
    lastReview: '最近排查', overdue: '超期', incident: '关联警情', timeline: '办理过程', sessions: '调解记录', agreements: '调解协议', followUps: '回访',
    tasks: '任务', mediators: '调解员', risk: '风险', assign: '邀请调解员', accept: '接受调解', decline: '拒绝', session: '记录调解', agreement: '拟定协议',
    sign: '双方已签署', upload: '上传协议书', file: '协议书', assess: '风险评估', review: '排查记录', transfer: '移交', close: '结案', reopen: '重新启动',
    record: '记录回访', holds: '协议仍在履行', recurred: '纠纷复发', due: '已到期', heldAt: '时间', placeOfSession: '地点', attendees: '参加人员',
    attendeesHint: '每行一人', notes: '调解情况', summary: '协议摘要', term: '条款', amount: '金额（元）', deadline: '期限', addTerm: '添加条款',
    organisation: '单位名称', body: '调解组织', mediator: '调解员', to: '移交至', outcome: '结果', reason: '原因', done: '完成', afterDays: '{{days}} 天回访',
    markFulfilled: '已履行', markBreached: '未履行', taskDone: '标记完成',
  },
  worklist: { title: '我的调解工作', tasks: '待办', cases: '我的案件', empty: '暂无待办', open: '办理' },
  figures: {
    title: '化解统计', node: '辖区', period: '期间', export: '导出 Excel', screened: '排查纠纷', closed: '办结', resolved: '调解成功', transferred: '移交',
    failed: '未成功/撤回', successRate: '调解成功率', medianDays: '化解天数中位数', recurrenceRate: '复发率', byMonth: '按月', byType: '按类型',
    children: '下级单位', unit: '单位', definition: '成功率 = 期内办结且最后一次回访时协议仍在履行的纠纷 ÷ 期内办结的纠纷（移交不计成功）。',
  },
};

type Widen<T> = { [K in keyof T]: T[K] extends string ? string : Widen<T[K]> };

export const mediationEn: Widen<typeof mediationZh> = {
  nav: { cases: 'Disputes', worklist: 'My mediation work', figures: 'Mediation figures' },
  desc: {
    cases: 'Registration, rolling screening, risk, mediation, agreements and follow-ups, one file per case.',
    worklist: 'Cases assigned to me, urgent tasks, follow-up visits now due and requests awaiting my consent.',
    figures: 'Screened, success rate, days to resolution and recurrence by jurisdiction, type and month; Excel export.',
  },
  types: {
    neighbours: 'Neighbours', noise: 'Noise', family: 'Family', marriage: 'Marriage', labour: 'Labour and work injury', land_housing: 'Land and housing',
    debt: 'Debt', traffic_accident: 'Traffic accident', consumer: 'Consumer', other: 'Other',
  },
  sources: { patrol_visit: 'Patrol visit', village_stay: 'Village stay', call: 'Call (110)', walk_in: 'Walk-in', partner: 'Partner department' },
  status: { open: 'Open', mediating: 'Mediating', agreed: 'Agreed', resolved: 'Resolved', transferred: 'Transferred', failed: 'Failed', withdrawn: 'Withdrawn' },
  risk: { low: 'Low', medium: 'Medium', high: 'High', critical: 'Critical' },
  factors: {
    threats: 'Threats', priorViolence: 'Prior violence', weapons: 'Weapons', selfHarm: 'Signs of self-harm', manyPeople: 'Many people involved',
    moneyAtStake: 'Money at stake', repeatedCalls: 'Repeated calls',
  },
  bodies: { station: 'Police station', committee: "People's mediation committee", justice_office: 'Justice office', law_firm: 'Law firm' },
  targets: { court: 'Court', labour_arbitration: 'Labour arbitration', justice_office: 'Justice office', petition_office: 'Petition office', other: 'Other' },
  sides: { applicant: 'Applicant', respondent: 'Respondent', other: 'Other' },
  assign: { proposed: 'Awaiting consent', accepted: 'Accepted', declined: 'Declined', withdrawn: 'Withdrawn' },
  terms: { pending: 'Pending', fulfilled: 'Fulfilled', breached: 'Breached' },
  followUp: { scheduled: 'Scheduled', done: 'Done', cancelled: 'Cancelled' },
  agreement: { proposed: 'Proposed', signed: 'Signed', superseded: 'Superseded' },
  events: {
    registered: 'Registered', risk: 'Risk assessed', risk_raised: 'Risk raised: urgent task, station leader notified', reviewed: 'Screened', mediator_proposed: 'Mediator asked',
    mediator_accepted: 'Mediator accepted', mediator_declined: 'Mediator declined', session: 'Session', agreement_proposed: 'Agreement proposed', agreement_signed: 'Agreement signed',
    agreement_file: 'Signed document uploaded', term: 'Term fulfilment', follow_up: 'Follow-up visit', reopened: 'Reopened', transferred: 'Transferred', closed: 'Closed', task_done: 'Task done',
  },
  tasks: { risk_urgent: 'Urgent task', follow_up: 'Follow-up due', consent: 'Consent requested' },
  list: {
    title: 'Disputes', register: 'Register a dispute', state: 'Scope', active: 'Active', closed: 'Closed', all: 'All', type: 'Type', risk: 'Risk', overdue: 'Not screened in time',
    mine: 'Mine', search: 'Number or title', number: 'Number', caseTitle: 'Dispute', grid: 'Grid', parties: 'Parties', mediators: 'Mediators', registeredAt: 'Registered',
    nextFollowUp: 'Next follow-up', cases: 'Cases', screening: 'Rolling screening', reviewInterval: 'Review every {{days}} days', open: 'Active', highRisk: 'High risk', rising: 'Rising',
    new30: 'New, last 30 days', prev30: '30 days before', empty: 'No disputes',
  },
  form: {
    incident: 'Incident', incidentHint: 'From an incident, the place is the incident’s', source: 'Source', type: 'Type', title: 'Title', description: 'What happened', history: 'History',
    grid: 'Grid', address: 'Address', parties: 'Parties', addParty: 'Add a party', person: 'Person', organisation: 'Organisation', name: 'Name', phone: 'Phone',
    idNumber: 'ID number', demand: 'Wants', side: 'Side', riskCheck: 'Risk checklist', level: 'Judged level', levelHint: 'Empty: the checklist decides', note: 'Note',
    submit: 'Submit', cancel: 'Cancel', placeRequired: 'Choose the grid or the incident',
  },
  detail: {
    reveal: 'Show in full', revealed: 'Shown in full (audited)', officer: 'Officer in charge', place: 'Place', station: 'Station', registered: 'Registered',
    lastReview: 'Last screened', overdue: 'overdue', incident: 'Incident', timeline: 'Timeline', sessions: 'Sessions', agreements: 'Agreements', followUps: 'Follow-ups',
    tasks: 'Tasks', mediators: 'Mediators', risk: 'Risk', assign: 'Ask a mediator', accept: 'Accept the case', decline: 'Decline', session: 'Record a session', agreement: 'Propose an agreement',
    sign: 'Signed by both sides', upload: 'Upload the signed document', file: 'Signed document', assess: 'Assess the risk', review: 'Record screening', transfer: 'Transfer', close: 'Close', reopen: 'Reopen',
    record: 'Record the visit', holds: 'The agreement holds', recurred: 'The dispute recurred', due: 'due', heldAt: 'When', placeOfSession: 'Where', attendees: 'Attendees',
    attendeesHint: 'One per line', notes: 'Notes', summary: 'Summary', term: 'Term', amount: 'Amount (yuan)', deadline: 'Deadline', addTerm: 'Add a term',
    organisation: 'Organisation', body: 'Body', mediator: 'Mediator', to: 'Transfer to', outcome: 'Outcome', reason: 'Reason', done: 'Done', afterDays: '{{days}}-day visit',
    markFulfilled: 'Fulfilled', markBreached: 'Breached', taskDone: 'Mark done',
  },
  worklist: { title: 'My mediation work', tasks: 'To do', cases: 'My cases', empty: 'Nothing to do', open: 'Open' },
  figures: {
    title: 'Mediation figures', node: 'Jurisdiction', period: 'Period', export: 'Export Excel', screened: 'Screened', closed: 'Closed', resolved: 'Resolved', transferred: 'Transferred',
    failed: 'Failed / withdrawn', successRate: 'Success rate', medianDays: 'Median days', recurrenceRate: 'Recurrence rate', byMonth: 'By month', byType: 'By type',
    children: 'Units below', unit: 'Unit', definition: 'Success rate = disputes closed in the period whose agreement held at the last follow-up ÷ disputes closed in the period (a transfer is not a success).',
  },
};
