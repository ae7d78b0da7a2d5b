/**
 * The server's reasons for refusing a polygon (tree.ts validation) in Chinese: the server speaks English,
 * the two phrases it uses are translated here and anything else is shown as it came.
 *   "lies 89642 m² outside its parent (tolerance 1198 m²)"
 *   "overlaps 东水村第2微网格 (370523106201-02) by 55965 m² (tolerance 1198 m²)"
 */
export function refusalText(message: string, language: string): string {
  if (language === 'en') return message;
  const outside = /lies ([\d.]+) m² outside its parent(?: \(tolerance ([\d.]+) m²\))?/.exec(message);
  if (outside) {
    return `超出上级网格范围 ${outside[1]} 平方米${outside[2] ? `（容差 ${outside[2]} 平方米）` : ''}`;
  }
  const overlap = /overlaps (.+?) by ([\d.]+) m²(?: \(tolerance ([\d.]+) m²\))?/.exec(message);
  if (overlap) {
    return `与相邻网格 ${overlap[1]} 重叠 ${overlap[2]} 平方米${overlap[3] ? `（容差 ${overlap[3]} 平方米）` : ''}`;
  }
  const invalid = /is not a valid polygon: (.*)/.exec(message);
  if (invalid) return `不是有效的多边形（${invalid[1]}），边界可能自相交`;
  if (/has no area/.test(message)) return '多边形面积为零';
  return message;
}
