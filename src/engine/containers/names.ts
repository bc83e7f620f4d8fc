// Generated container names in Docker's style: adjective_scientist.
import { randomInt } from 'node:crypto';

const LEFT = [
  'admiring', 'adoring', 'affectionate', 'agitated', 'amazing', 'angry', 'awesome', 'beautiful', 'blissful',
  'bold', 'boring', 'brave', 'busy', 'charming', 'clever', 'compassionate', 'competent', 'condescending',
  'confident', 'cool', 'cranky', 'crazy', 'dazzling', 'determined', 'distracted', 'dreamy', 'eager',
  'ecstatic', 'elastic', 'elated', 'elegant', 'eloquent', 'epic', 'exciting', 'fervent', 'festive',
  'flamboyant', 'focused', 'friendly', 'frosty', 'funny', 'gallant', 'gifted', 'goofy', 'gracious',
  'great', 'happy', 'hardcore', 'heuristic', 'hopeful', 'hungry', 'infallible', 'inspiring', 'intelligent',
  'interesting', 'jolly', 'jovial', 'keen', 'kind', 'laughing', 'loving', 'lucid', 'magical', 'modest',
  'musing', 'mystifying', 'naughty', 'nervous', 'nice', 'nifty', 'nostalgic', 'objective', 'optimistic',
  'peaceful', 'pedantic', 'pensive', 'practical', 'priceless', 'quirky', 'quizzical', 'relaxed',
  'reverent', 'romantic', 'sad', 'serene', 'sharp', 'silly', 'sleepy', 'stoic', 'strange', 'stupefied',
  'suspicious', 'sweet', 'tender', 'thirsty', 'trusting', 'unruffled', 'upbeat', 'vibrant', 'vigilant',
  'vigorous', 'wizardly', 'wonderful', 'xenodochial', 'youthful', 'zealous', 'zen',
];

const RIGHT = [
  'agnesi', 'albattani', 'allen', 'almeida', 'archimedes', 'ardinghelli', 'babbage', 'banach', 'bardeen',
  'bartik', 'bell', 'benz', 'bhabha', 'black', 'blackwell', 'bohr', 'booth', 'borg', 'bose', 'brahmagupta',
  'brattain', 'brown', 'carson', 'cerf', 'chandrasekhar', 'clarke', 'colden', 'cori', 'curie', 'darwin',
  'davinci', 'diffie', 'dijkstra', 'driscoll', 'dubinsky', 'easley', 'einstein', 'elion', 'engelbart',
  'euclid', 'euler', 'faraday', 'fermat', 'fermi', 'feynman', 'franklin', 'galileo', 'gates', 'goldberg',
  'goldstine', 'goodall', 'hamilton', 'hawking', 'heisenberg', 'hermann', 'hodgkin', 'hofstadter',
  'hopper', 'hugle', 'hypatia', 'jackson', 'jang', 'jennings', 'jepsen', 'johnson', 'joliot', 'jones',
  'kalam', 'kare', 'keller', 'kepler', 'khorana', 'kilby', 'kirch', 'knuth', 'kowalevski', 'lalande',
  'lamarr', 'lamport', 'leakey', 'leavitt', 'lewin', 'lichterman', 'liskov', 'lovelace', 'lumiere',
  'mahavira', 'mayer', 'mccarthy', 'mcclintock', 'mclean', 'meitner', 'mendel', 'merkle', 'minsky',
  'mirzakhani', 'morse', 'murdock', 'napier', 'nash', 'neumann', 'newton', 'nobel', 'noether', 'northcutt',
  'noyce', 'panini', 'pare', 'pascal', 'pasteur', 'payne', 'perlman', 'pike', 'poincare', 'ptolemy',
  'raman', 'ramanujan', 'ride', 'ritchie', 'roentgen', 'rosalind', 'saha', 'sammet', 'shamir', 'shannon',
  'shaw', 'shockley', 'sinoussi', 'snyder', 'spence', 'stallman', 'stonebraker', 'swanson', 'swartz',
  'tesla', 'thompson', 'torvalds', 'turing', 'varahamihira', 'visvesvaraya', 'volhard', 'wescoff',
  'wilbur', 'wiles', 'williams', 'wilson', 'wing', 'wozniak', 'wright', 'yalow', 'yonath',
];

export function generateName(taken: (name: string) => boolean): string {
  for (let attempt = 0; ; attempt++) {
    let name = `${LEFT[randomInt(LEFT.length)]}_${RIGHT[randomInt(RIGHT.length)]}`;
    if (name === 'boring_wozniak') continue; // Steve Wozniak is not boring (Docker's rule)
    if (attempt > 10) name += randomInt(10);
    if (!taken(name)) return name;
  }
}
