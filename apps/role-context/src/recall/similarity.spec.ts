import { cosine, keywordScore, keywords, topK } from './similarity';

describe('recall similarity', () => {
  it('matches keywords across plurals and ignores stopwords', () => {
    const q = keywords('Which cats does Ada have?');
    expect(keywordScore(q, keywords('Ada has two cats.'))).toBeGreaterThan(0.5);
    expect(keywordScore(q, keywords('The weather is fine.'))).toBe(0);
  });

  it('ranks by cosine and keeps the top k', () => {
    expect(cosine([1, 0], [1, 0])).toBeCloseTo(1);
    expect(cosine([1, 0], [0, 1])).toBeCloseTo(0);
    expect(cosine([1, 0], [1])).toBe(0);
    expect(topK([{ score: 0.1 }, { score: 0.9 }, { score: 0.5 }], 2).map((x) => x.score)).toEqual([0.9, 0.5]);
  });
});
