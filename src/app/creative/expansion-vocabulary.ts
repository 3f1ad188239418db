/**
 * The word pools of the prompt expander, written for this project: for each subject category, the keywords that
 * detect it and the phrases that suit it, plus general pools of lighting, composition and finish. Data, not code:
 * editing a pool changes the expansion without touching the method.
 */

export const SUBJECT_CATEGORIES = [
  'portrait',
  'animal',
  'landscape',
  'architecture',
  'food',
  'vehicle',
  'product',
  'fantasy',
  'scifi',
  'abstract',
] as const;

export type SubjectCategory = (typeof SUBJECT_CATEGORIES)[number];

export interface CategoryVocabulary {
  /** Words (stem-matched) that point to the category; more hits, stronger match. */
  keywords: readonly string[];
  /** Phrases that describe such a subject well. */
  phrases: readonly string[];
}

export const CATEGORY_VOCABULARY: Readonly<Record<SubjectCategory, CategoryVocabulary>> = {
  portrait: {
    keywords: ['portrait', 'man', 'woman', 'girl', 'boy', 'person', 'people', 'face', 'child', 'lady', 'gentleman', 'king',
      'queen', 'warrior', 'soldier', 'dancer', 'musician', 'farmer', 'elder', 'smile', 'selfie', 'model', 'actor', 'monk',
      'witch', 'knight', 'princess', 'astronaut', 'chef', 'student', 'grandmother', 'grandfather', 'teenager', 'bride'],
    phrases: ['expressive eyes', 'natural skin texture', 'candid expression', 'thoughtful gaze', 'subtle catchlights',
      'soft falloff behind the subject', 'individual hair strands', 'relaxed posture', 'honest character study',
      'gentle smile lines', 'tailored clothing folds', 'intimate framing'],
  },
  animal: {
    keywords: ['cat', 'dog', 'bird', 'horse', 'fox', 'wolf', 'bear', 'lion', 'tiger', 'owl', 'eagle', 'deer', 'rabbit',
      'puppy', 'kitten', 'fish', 'whale', 'dolphin', 'elephant', 'giraffe', 'monkey', 'parrot', 'butterfly', 'insect',
      'animal', 'wildlife', 'pet', 'squirrel', 'frog', 'turtle', 'snake', 'cow', 'sheep', 'duck', 'penguin', 'raccoon'],
    phrases: ['fine fur detail', 'alert eyes', 'natural habitat', 'patient wildlife moment', 'feather texture',
      'whiskers catching the light', 'curious stance', 'soft underbelly tones', 'mid-stride motion',
      'quiet observation distance', 'wet nose highlight', 'layered plumage'],
  },
  landscape: {
    keywords: ['landscape', 'mountain', 'forest', 'lake', 'river', 'ocean', 'sea', 'beach', 'valley', 'desert', 'field',
      'meadow', 'canyon', 'waterfall', 'glacier', 'island', 'sky', 'sunset', 'sunrise', 'cloud', 'hill', 'coast', 'nature',
      'tree', 'garden', 'jungle', 'volcano', 'snow', 'storm', 'aurora', 'prairie', 'cliff', 'fjord', 'dune'],
    phrases: ['sweeping vista', 'layered ridgelines', 'atmospheric haze', 'distant peaks', 'reflections on still water',
      'wind-swept grasses', 'rolling terrain', 'weather moving in', 'vast open space', 'morning mist in the hollows',
      'long shadows across the land', 'untouched wilderness'],
  },
  architecture: {
    keywords: ['building', 'city', 'street', 'house', 'tower', 'bridge', 'cathedral', 'church', 'temple', 'castle',
      'skyscraper', 'interior', 'room', 'kitchen', 'library', 'station', 'alley', 'village', 'town', 'architecture',
      'skyline', 'apartment', 'palace', 'ruin', 'facade', 'market', 'cafe', 'harbor', 'lighthouse', 'hallway', 'courtyard'],
    phrases: ['clean vertical lines', 'considered proportions', 'weathered stone surfaces', 'rhythmic windows',
      'human scale for reference', 'light spilling through doorways', 'material honesty', 'geometric symmetry',
      'lived-in details', 'receding perspective', 'polished floors catching reflections', 'quiet urban rhythm'],
  },
  food: {
    keywords: ['food', 'dish', 'meal', 'cake', 'bread', 'pizza', 'burger', 'soup', 'salad', 'coffee', 'tea', 'wine',
      'cocktail', 'fruit', 'dessert', 'pastry', 'sushi', 'noodle', 'ramen', 'breakfast', 'dinner', 'chocolate', 'cheese',
      'pie', 'cookie', 'steak', 'pasta', 'curry', 'taco', 'sandwich', 'juice', 'cupcake'],
    phrases: ['appetizing textures', 'steam rising gently', 'glistening sauce', 'crumbs on the table', 'fresh herbs scattered',
      'rustic wooden board', 'condensation droplets', 'inviting plating', 'golden crust', 'hand-thrown ceramic plate',
      'linen napkin', 'generous portion'],
  },
  vehicle: {
    keywords: ['car', 'truck', 'motorcycle', 'bike', 'bicycle', 'train', 'plane', 'airplane', 'jet', 'ship', 'boat',
      'yacht', 'bus', 'tram', 'tractor', 'helicopter', 'submarine', 'locomotive', 'van', 'racecar', 'scooter', 'vehicle',
      'sailboat', 'canoe', 'zeppelin', 'airship'],
    phrases: ['sleek body lines', 'reflections sliding over paint', 'sense of speed', 'precise panel gaps', 'road spray',
      'tire tread detail', 'chrome accents', 'low tracking angle', 'engine heat shimmer', 'well-worn patina',
      'motion-blurred background', 'sculpted silhouette'],
  },
  product: {
    keywords: ['product', 'bottle', 'watch', 'phone', 'shoe', 'sneaker', 'bag', 'perfume', 'jewelry', 'ring', 'necklace',
      'lamp', 'chair', 'cup', 'mug', 'camera', 'headphones', 'book', 'vase', 'package', 'cosmetic', 'glasses', 'toy',
      'gadget', 'keyboard', 'knife', 'pen', 'clock', 'candle', 'teapot', 'object'],
    phrases: ['clean studio backdrop', 'precise edges', 'soft gradient sweep', 'controlled reflections', 'tactile materials',
      'hero angle', 'minimal props', 'crisp label detail', 'subtle shadow grounding', 'brushed metal finish',
      'seamless background', 'catalogue clarity'],
  },
  fantasy: {
    keywords: ['dragon', 'wizard', 'elf', 'fairy', 'magic', 'magical', 'castle', 'sorceress', 'unicorn', 'griffin',
      'spell', 'enchanted', 'mythical', 'myth', 'legend', 'kingdom', 'dwarf', 'orc', 'goblin', 'phoenix', 'mermaid',
      'potion', 'rune', 'sword', 'quest', 'fantasy', 'sorcerer', 'troll', 'oracle'],
    phrases: ['ancient runes', 'drifting embers', 'otherworldly glow', 'mythic scale', 'ornate filigree', 'storybook wonder',
      'moss-covered relics', 'arcane sigils', 'heroic silhouette', 'floating motes of light', 'old-world craftsmanship',
      'legendary atmosphere'],
  },
  scifi: {
    keywords: ['robot', 'cyborg', 'android', 'spaceship', 'spacecraft', 'space', 'alien', 'planet', 'galaxy', 'futuristic',
      'cyberpunk', 'mech', 'laser', 'hologram', 'station', 'starship', 'nebula', 'future', 'scifi', 'sci', 'neon', 'drone',
      'colony', 'orbit', 'asteroid', 'moon', 'mars', 'terminal'],
    phrases: ['panel seams and vents', 'holographic readouts', 'hard surface detailing', 'cold blue accents',
      'vast industrial scale', 'retro-futurist touches', 'cable bundles', 'glowing indicator lights', 'zero-gravity debris',
      'engineered precision', 'alien horizon', 'utilitarian design language'],
  },
  abstract: {
    keywords: ['abstract', 'pattern', 'shape', 'shapes', 'geometric', 'fractal', 'texture', 'swirl', 'gradient', 'form',
      'composition', 'minimal', 'minimalist', 'wave', 'waves', 'line', 'lines', 'circle', 'spiral', 'flow', 'fluid', 'color',
      'colour', 'noise', 'kaleidoscope'],
    phrases: ['interlocking forms', 'bold negative space', 'harmonious palette', 'rhythmic repetition', 'layered translucency',
      'tension between curves and edges', 'organic flow', 'balanced asymmetry', 'subtle grain', 'chromatic interplay',
      'visual depth', 'sculptural shapes'],
  },
};

/** Phrases for any subject, grouped by what they describe. */
export const GENERAL_POOLS = {
  lighting: ['soft window light', 'golden hour glow', 'gentle rim light', 'diffused overcast light', 'warm practical lamps',
    'cool twilight ambience', 'dappled sunlight', 'moody low key lighting', 'bright airy light', 'directional side light',
    'luminous backlight', 'subtle volumetric light', 'balanced exposure', 'candle-warm highlights'],
  composition: ['thoughtful composition', 'rule of thirds', 'strong leading lines', 'layered depth', 'shallow depth of field',
    'wide establishing view', 'intimate close framing', 'centered symmetry', 'dynamic diagonal', 'clear focal point',
    'foreground interest', 'generous breathing room'],
  finish: ['fine detail', 'crisp focus', 'rich tonal range', 'refined color grading', 'clean rendering', 'high resolution',
    'nuanced textures', 'true-to-life colors', 'polished finish', 'sharp clarity', 'delicate gradients', 'careful craftsmanship',
    'vivid yet natural color', 'masterful execution'],
} as const;

export type GeneralPool = keyof typeof GENERAL_POOLS;

/**
 * The order in which slots are filled: subject phrases lead, then light, framing and finish alternate, so a tight
 * token budget still gets one of each kind before a second of any.
 */
export const EXPANSION_SLOTS: readonly ('subject' | GeneralPool)[] = [
  'subject',
  'lighting',
  'composition',
  'finish',
  'subject',
  'finish',
  'lighting',
  'subject',
  'composition',
  'finish',
];
