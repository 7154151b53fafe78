// Chinese labels for the model's codes (graph/model.yaml). An unknown code is
// shown as it is, so a type added to the model later still renders.

export const RELATIONS = {
  legal_representative: '法定代表人',
  shareholder: '股东',
  officer: '主要人员',
  actual_controller: '实际控制人',
  branch_of: '分支机构',
  guarantees: '担保',
};

export const FEEDS = {
  registry: '企业登记',
  shareholders: '股东出资',
  officers: '主要人员',
  guarantees: '担保',
  dishonest_debtors: '失信被执行人',
  admin_penalties: '行政处罚',
  abnormal_operations: '经营异常名录',
  serious_violations: '严重违法失信名单',
  tax_violations: '重大税收违法失信主体',
  loan_defaults: '金融违约',
  admin_licenses: '行政许可',
  red_list: '守信红名单',
  credit_repairs: '信用修复',
};

export const KEYS = {
  uscc: '统一社会信用代码',
  org_code: '组织机构代码',
  reg_no: '工商注册号',
  id_number: '公民身份号码',
  id_masked: '公民身份号码（脱敏）',
};

export const TYPES = { organisation: '企业组织', person: '自然人' };

export const MATCH = {
  key: '代码精确匹配',
  bridge: '旧代码桥接',
  fuzzy: '名称相似匹配',
  judgement: '人工复核',
  new: '新建主体',
};

export const STATUS = {
  active: '有效',
  expired: '已到期',
  repaired: '已修复',
  removed: '已移出',
  pending: '未生效',
  decision: '修复决定',
};

export const label = (map, code) => (code == null ? '' : map[code] || String(code));

/** "uscc:9141…" → ["统一社会信用代码", "9141…"] */
export function splitKey(key) {
  const i = String(key).indexOf(':');
  if (i < 0) return ['', String(key)];
  const kind = key.slice(0, i);
  return [label(KEYS, kind), key.slice(i + 1)];
}

export const ATTRIBUTES = {
  region: '行政区划代码',
  enterprise_type: '企业类型',
  founded: '成立日期',
  registration_status: '登记状态',
  capital: '注册资本（万元）',
  address: '住所',
  authority: '登记机关',
  scope: '经营范围',
  province: '省份',
  area: '地区',
  sex: '性别',
  birth_date: '出生日期',
};

export const ROLES = {
  subject: '主体',
  legal_representative: '法定代表人',
  shareholder: '股东',
  officer: '主要人员',
  head_office: '总公司',
  guarantor: '担保人',
  borrower: '被担保人',
  creditor: '债权人',
  controller: '实际控制人',
};
