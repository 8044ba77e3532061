/** The project's 13 fashion categories, the same ids as ../shared/datasets/ccp-fashion. */
export interface Category {
  id: number;
  name: string;
  supercategory: string;
}

export const FASHION_CATEGORIES: readonly Category[] = [
  { id: 1, name: 'top', supercategory: 'clothing' },
  { id: 2, name: 'outerwear', supercategory: 'clothing' },
  { id: 3, name: 'pants', supercategory: 'clothing' },
  { id: 4, name: 'shorts', supercategory: 'clothing' },
  { id: 5, name: 'skirt', supercategory: 'clothing' },
  { id: 6, name: 'dress', supercategory: 'clothing' },
  { id: 7, name: 'footwear', supercategory: 'footwear' },
  { id: 8, name: 'bag', supercategory: 'bag' },
  { id: 9, name: 'headwear', supercategory: 'accessory' },
  { id: 10, name: 'eyewear', supercategory: 'accessory' },
  { id: 11, name: 'belt', supercategory: 'accessory' },
  { id: 12, name: 'neckwear', supercategory: 'accessory' },
  { id: 13, name: 'legwear', supercategory: 'clothing' },
];
