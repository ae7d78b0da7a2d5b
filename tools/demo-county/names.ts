/** Seeded generator of plausible (fictional) Chinese personal names and mobile numbers. */
import type { Rng } from './prng.js';

// Common surnames, roughly by frequency (the first ones are drawn more often).
const SURNAMES = [
  '王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴', '徐', '孙', '胡', '朱', '高', '林', '何', '郭',
  '马', '罗', '梁', '宋', '郑', '谢', '韩', '唐', '冯', '于', '董', '萧', '程', '曹', '袁', '邓', '许', '傅',
  '沈', '曾', '彭', '吕', '苏', '卢', '蒋', '蔡', '贾', '丁', '魏', '薛', '叶', '阎', '余', '潘', '杜', '戴',
  '夏', '钟', '汪', '田', '任', '姜', '范', '方', '石', '姚', '谭', '廖', '邹', '熊', '金', '陆', '郝', '孔',
  '白', '崔', '康', '毛', '邱', '秦', '江', '史', '顾', '侯', '邵', '孟', '龙', '万', '段', '雷', '钱', '汤',
];
const GIVEN = [
  '伟', '芳', '娜', '秀', '英', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明',
  '超', '霞', '平', '刚', '桂', '兰', '玉', '华', '建', '国', '志', '红', '海', '波', '辉', '鹏', '宁', '飞',
  '凤', '春', '晓', '东', '丹', '文', '斌', '宇', '浩', '凯', '梅', '琳', '婷', '健', '俊', '帅', '雪', '慧',
  '金', '荣', '德', '成', '永', '庆', '新', '利', '清', '福', '生', '龙', '元', '全', '山', '振', '家', '鑫',
];

export interface Person {
  name: string;
  phone: string;
}

export function createPeople(rng: Rng): () => Person {
  const phones = new Set<string>();
  const surname = () => {
    // skewed pick: squares the uniform draw so common surnames dominate
    const u = rng.next();
    return SURNAMES[Math.floor(u * u * SURNAMES.length)];
  };
  return () => {
    const given = rng.next() < 0.75 ? rng.pick(GIVEN) + rng.pick(GIVEN) : rng.pick(GIVEN);
    let phone: string;
    do {
      phone = `13${rng.int(0, 9)}${String(rng.int(0, 99_999_999)).padStart(8, '0')}`;
    } while (phones.has(phone));
    phones.add(phone);
    return { name: surname() + given, phone };
  };
}
