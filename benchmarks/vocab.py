"""Word lists the corpus generator draws from: systems/ML titles, abstracts, people.

Kept as data so the generator's code stays about structure. Names cover the
shapes real listings print: non-ASCII ("Sören Müller"), hyphenated
("Jean-Luc"), particles ("van der Berg"), initials ("George H. Chen").
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# --- people -------------------------------------------------------------------

GIVEN = _words(
    # romanised Chinese, the most common on systems/ML listings
    "Zhihao Yixuan Xupeng Qinghao Yuke Boyuan Hailong Zhongzhi Siqi Junjie Kelun Weicheng "
    "Yufei Zhuoming Xinrui Gabriele Yichao Zikun Zixuan Chunan Jiangfei Pengzhan Jinjun "
    "Hongyi Bohan Guanjie Liyan Haojie Jidong Chujie Siyuan Bing Changhao Mengdi Xiaoyu "
    "Ranajoy Zihao Shang Junxian Haotian Guangxuan Jiaming Yujun Zhijian Song Zeyu Peisong "
    "Gang Xiaoyao Jian Zhisheng Zerui Guoteng Meng Qiaoling Peng Dahua Xiaolin Yingwei "
    "Yonggang Tianwei Xingting Tielong Zitao Zhengyang Fanrong Zejian Xiangyu Cong Jiaxiang "
    "Wei Lei Yan Jing Tao Hao Yu Xin Yang Fei Kai Rui Bo Ke Ying Lin Qi Chen "
    # Korean, Japanese, Indian, Vietnamese
    "Min-jun Ji-hoon Seo-yeon Hyun-woo Taro Haruki Yuki Kenji Aditya Priya Rahul Ananya "
    "Vikram Srinivas Deepak Lakshmi Thanh Minh "
    # European and American, with accents and hyphens
    "Kay John Anna Michael Sarah David Maria Thomas Laura Daniel Emma Lukas Jonas Felix "
    "Jean-Luc Jean-Pierre Marie-Claire Hans-Peter Sören Björn Jürgen Zoë François Hélène "
    "José Łukasz Małgorzata Søren Åsa Ólafur Matei Ion Oded Christos Dimitrios Gabriel "
    "Nikolaj Tomáš Dávid Ignacio Núria Sebastián Andrés Çağla Ayşe Emre"
)

# Given names with a middle initial: the family name follows.
GIVEN_WITH_INITIAL = (
    "George H.",
    "Michael I.",
    "John C.",
    "Eric P.",
    "David A.",
    "Mary K.",
    "Joseph E.",
    "Randy H.",
)

FAMILY = _words(
    "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Luo Gao "
    "Zheng Liang Xie Song Tang Han Feng Deng Cao Peng Zeng Xiao Tian Dong Pan Yuan Cai Jiang "
    "Yu Du Ye Cheng Wei Su Lu Ding Ren Shen Yao Lei Qian Qi Jia Shi Miao Mei Jin Hou Fu "
    "Kim Park Lee Choi Jung Kang Tanaka Suzuki Sato Watanabe Sharma Gupta Patel Iyer "
    "Ramachandran Venkataraman Krishnan Nguyen Tran Pham "
    "Smith Johnson Brown Miller Davis Wilson Taylor Anderson Thorpe Stoica Zaharia Gonzalez "
    "Müller Schmidt Schäfer Weiß Köhler Jäger Dubois Lefèvre Girard Moreau Rossi Bianchi "
    "Ferrari Nowak Kowalski Wiśniewski Dvořák Novák Horváth Søndergaard Ångström Øvergaard "
    "García-López Fernández Martínez-Ruiz Pérez Sánchez Oliaro Papadopoulos Yılmaz Çelik "
    "Nielsen Johansson Lindqvist O'Brien McKenzie MacLeod Jones-Smith Eyolfson Padon"
)

# Family names that start with a lower-case particle.
PARTICLE_FAMILY = (
    "van der Berg",
    "van Dijk",
    "de la Cruz",
    "de Souza",
    "von Neumann",
    "di Stefano",
    "dos Santos",
    "le Roux",
    "van den Heuvel",
    "da Silva",
)

# Real family names the v0 parsers mis-split or drop (see BENCHMARKS.md): an
# inner capital other than Mc/Mac breaks the collapsed-page split, and these
# particles are unknown to the scholar-profile parser. Used at a low rate and
# flagged in the truth (variant "hard_name").
HARD_FAMILY = ("DeWitt", "LeCun", "DeVito", "LaValle", "DiPietro", "VanderPlas")
HARD_PARTICLE_FAMILY = ("della Valle", "ter Horst", "ten Brink", "das Neves", "al-Farsi")

# Profile-page organisation tags (lower case, as the site prints them).
ORG_TAGS = _words(
    "deepmind berkeley pku stanford uw princeton mit cmu tsinghua meta nvidia google "
    "microsoft ethz epfl kaist sjtu zju ucsd umich cornell nyu oxford cambridge"
)

# Affiliations for "Family, Given (Affiliation) | ..." scholar lists.
AFFILIATIONS = (
    "Institute of Automation, Chinese Academy of Sciences",
    "University of Chinese Academy of Sciences",
    "University of California, Berkeley",
    "Massachusetts Institute of Technology",
    "Carnegie Mellon University",
    "Tsinghua University",
    "Peking University",
    "ETH Zürich",
    "Technische Universität München",
    "École Polytechnique Fédérale de Lausanne",
    "Seoul National University",
    "University of Washington",
    "Microsoft Research",
    "Google DeepMind",
    "NVIDIA",
    "Shanghai AI Laboratory",
    "Nanyang Technological University",
    "University of Toronto",
    "Universidad Politécnica de Madrid",
    "Sorbonne Université",
)

# Daily-listing trailers that name an organisation instead of an author count.
DAILY_ORGS = (
    "Berkeley UC Berkeley",
    "NVIDIA NVIDIA",
    "google Google",
    "microsoft Microsoft",
    "facebook AI at Meta",
    "Qwen Qwen",
    "deepseek-ai DeepSeek",
    "allenai Ai2",
    "mit-han-lab MIT Han Lab",
    "stanford Stanford AI",
)

# --- categories -----------------------------------------------------------------

# arXiv subject codes as profile pages print them, with weights (systems/ML
# heavy, like the sample dumps): cs and eess without their archive, other
# archives with it (MATH.OC, COND-MAT.DIS-NN) or whole (HEP-LAT).
CATEGORIES = (
    ("LG", 22),
    ("DC", 18),
    ("CL", 8),
    ("CV", 8),
    ("AI", 8),
    ("AR", 6),
    ("PF", 3),
    ("OS", 2),
    ("NI", 2),
    ("DB", 2),
    ("IR", 2),
    ("MA", 2),
    ("PL", 3),
    ("SE", 3),
    ("CR", 2),
    ("RO", 1),
    ("DS", 1),
    ("QUANT-PH", 2),
    ("AS", 1),
    ("SY", 1),
    ("NE", 1),
    ("CY", 1),
    ("STAT.ML", 1),
    ("MATH.OC", 1),
    ("COND-MAT.DIS-NN", 1),
    ("PHYSICS.COMP-PH", 1),
    ("Q-BIO.QM", 1),
    ("HEP-LAT", 1),
)

# --- titles ----------------------------------------------------------------------

# Syllables for CamelCase system names ("FlashInfer", "SpotServe", "MagicPIG").
NAME_HEADS = _words(
    "Flash Spot Magic Spec Light Fast Deep Tensor Graph Mega Hyper Turbo Nano Micro Swift "
    "Quick Smart Auto Sparse Dyna Elastic Cloud Edge Stream Pipe Quant Zero Omni Uni Meta "
    "Infini Orca Vortex Nexus Prism Coral Bamboo Helix Aurora Atlas Titan Orion Apex Echo "
    "Pulse Forge Sky Neo Ray Chip Kernel Cache Token Pixel Vector Blitz Tidal Polar"
)
NAME_TAILS = _words(
    "Serve Infer Spec Train Flow Graph Net Cache Sched Opt Store Tune Comp Mem Shard Pipe "
    "Scale Boost Fuse Gen Mind Bench Sim Sync Stack Ray Lens Gate Core Link Loop Verse"
)
ACRONYM_LETTERS = "ABCDEFGHIKLMNOPQRSTUVWXZ"

ADJECTIVES = _words(
    "Efficient Scalable Adaptive Fine-grained Hardware-Aware Low-Latency Cost-Efficient "
    "Memory-Efficient Unified Distributed Sparse Dynamic Speculative Heterogeneous Learned "
    "Robust Fast Practical Automatic Elastic Fault-Tolerant Energy-Efficient High-Throughput "
    "Communication-Efficient Lightweight Provable Accurate Parallel Incremental Secure"
)

# Noun phrases a title is about (acronyms and hyphenated words included).
TOPICS = (
    "LLM Serving",
    "LLM Inference",
    "LLM Training",
    "Large Language Models",
    "Graph Neural Networks",
    "Sparse Attention",
    "Tensor Programs",
    "KV Cache Management",
    "Mixture-of-Experts Models",
    "Quantization",
    "GPU Kernel Generation",
    "Transformers",
    "DNNs",
    "Deep Neural Networks",
    "Recommendation Models",
    "Vector Search",
    "Federated Learning",
    "Diffusion Models",
    "Collective Communication",
    "Speculative Decoding",
    "Sparse Matrix-Vector Multiplication",
    "Neural Architecture Search",
    "Reinforcement Learning from Human Feedback",
    "Multi-Agent Systems",
    "Stream Processing",
    "Serverless Computing",
    "Key-Value Stores",
    "Vision Transformers",
    "Retrieval-Augmented Generation",
    "Long-Context Reasoning",
    "Pipeline Parallelism",
    "Tensor Parallelism",
    "Data Loading",
    "Checkpointing",
    "Spiking Neural Networks",
    "Neural Radiance Fields",
    "Quantum Circuits",
    "RTL Generation",
    "Compiler Autotuning",
    "Max-Flow",
    "Embedding Tables",
    "Low-Rank Adaptation",
    "State Space Models",
    "Video Generation",
    "Code LLMs",
)
ACTIONS = (
    "Accelerating",
    "Scaling",
    "Optimizing",
    "Serving",
    "Training",
    "Compressing",
    "Benchmarking",
    "Characterizing",
    "Rethinking",
    "Understanding",
    "Towards",
    "Taming",
    "Revisiting",
    "Democratizing",
    "Orchestrating",
)
PREPOSITIONS = ("for", "with", "via", "on", "in", "through", "under", "at")
# What a title often ends with ("... on GPUs").
SETTINGS = (
    "GPUs",
    "Multi-GPU Platforms",
    "Heterogeneous Clusters",
    "Edge Devices",
    "Scale",
    "CPUs",
    "TPUs",
    "FPGAs",
    "Serverless Platforms",
    "the Cloud",
    "Preemptible Instances",
    "Commodity Hardware",
    "Mobile Devices",
    "Supercomputers",
    "Production",
    "Datacenters",
    "AI Accelerators",
)
TECHNIQUES = (
    "Adaptive Drafting",
    "Data Movement Forecasting",
    "Invocation Distance-Based Memory Management",
    "Program Rewriting",
    "Hierarchical Scheduling",
    "Operator Fusion",
    "Learned Cost Models",
    "Dynamic Batching",
    "Asynchronous Communication",
    "Symbolic Superoptimization",
    "Cache-Aware Partitioning",
    "Profile-Guided Optimization",
    "Lookahead Prefetching",
    "Mixed-Precision Arithmetic",
    "Workload-Aware Placement",
    "Graph Partitioning",
    "Token Pruning",
    "Paged Attention",
)
NEAR_SWAPS = (
    ("GPUs", "CPUs"),
    ("Training", "Inference"),
    ("Serving", "Training"),
    ("Efficient", "Scalable"),
    ("Sparse", "Dense"),
    ("Edge Devices", "Mobile Devices"),
)

# --- abstracts ---------------------------------------------------------------------

PROBLEMS = (
    "high memory bandwidth demands",
    "poor data locality",
    "load imbalance across workers",
    "expensive inter-GPU communication",
    "long tail latency under bursty load",
    "limited on-chip memory",
    "redundant computation across requests",
    "frequent hardware failures",
    "low hardware utilization",
    "the quadratic cost of attention",
    "a vast configuration search space",
    "unpredictable workload dynamics",
    "stragglers in synchronous training",
    "costly data preprocessing",
)
DOMAINS = (
    "natural language processing",
    "computer vision",
    "recommendation",
    "scientific computing",
    "autonomous driving",
    "code generation",
    "information retrieval",
    "speech recognition",
    "graph analytics",
    "robotics",
)
HARDWARE = (
    "NVIDIA A100 GPUs",
    "NVIDIA H100 GPUs",
    "AMD MI250X GPUs",
    "a 64-node cluster",
    "Google TPU v4 pods",
    "Intel Xeon CPUs",
    "ARM mobile SoCs",
    "Ascend 910B accelerators",
    "RTX 4090 GPUs",
    "a Raspberry Pi 4",
)
BASELINES = (
    "vLLM",
    "DeepSpeed",
    "Megatron-LM",
    "PyTorch",
    "TensorRT-LLM",
    "cuSPARSE",
    "TVM",
    "Ansor",
    "FasterTransformer",
    "SGLang",
    "Orca",
    "Horovod",
    "DGL",
    "PyG",
    "Triton",
)
METRICS = ("throughput", "speedup", "lower latency", "memory savings", "energy savings")
SYSTEM_NOUNS = (
    "system",
    "framework",
    "compiler",
    "runtime",
    "scheduler",
    "serving engine",
    "library",
    "algorithm",
    "benchmark",
)
VERBS = (
    "reduces",
    "eliminates",
    "hides",
    "amortises",
    "exploits",
    "balances",
    "overlaps",
    "co-designs",
)
OBJECTS = (
    "communication with computation",
    "the memory footprint of activations",
    "the scheduling overhead",
    "the data movement between tiers",
    "idle cycles on the accelerator",
    "the cost of recomputation",
    "contention on shared caches",
    "the synchronization overhead",
)
LATEX_SNIPPETS = (
    "$O(n \\log n)$",
    "$O(1)$",
    "2.81$\\times$",
    "$k$-means",
    "$\\ell_2$",
    "$\\epsilon$-approximate",
)

# Page fragments that stray into copied text.
STRAY_FRAGMENTS = (
    "Show more",
    "Load more",
    "Sign in to follow",
    "View all",
    "Follow",
    "Copy link",
    "Back to top",
    "Loading...",
)
