"""The 30-request selection test: requests with an obviously right model; ranking alone must find >= 27."""

from __future__ import annotations

from pathlib import Path

import pytest

from hugginggpt.domain import Argument, InferenceMode, Task
from hugginggpt.embedding import MiniLm
from hugginggpt.tasktypes import load_task_types
from services.selector.catalog import BUNDLED_SNAPSHOT, load_catalog
from services.selector.config import OFFLINE
from services.selector.deployments import DeploymentCache, Deployments
from services.selector.ranking import Ranker
from services.selector.selection import Policy, Selector
from tests.doubles.llm import DownLlm

# (request, task type, literal text argument, acceptable model ids)
CASES: list[tuple[str, str, str, set[str]]] = [
    ("Translate this German sentence into English", "translation", "Ich habe heute leider keine Zeit.",
     {"Helsinki-NLP/opus-mt-de-en"}),
    ("Translate this Chinese text to English", "translation", "今天天气很好，我们去公园散步吧。",
     {"Helsinki-NLP/opus-mt-zh-en"}),
    ("Please translate this into Chinese", "translation", "Good morning, how are you today?",
     {"Helsinki-NLP/opus-mt-en-zh", "liam168/trans-opus-mt-en-zh"}),
    ("Translate this Spanish text to English", "translation", "Me gusta mucho la comida de mi madre.",
     {"Helsinki-NLP/opus-mt-es-en"}),
    ("Translate into Spanish", "translation", "The meeting starts at noon in the main hall.",
     {"Helsinki-NLP/opus-mt-en-es"}),
    ("Translate this French sentence into English", "translation", "Je suis très content de vous voir.",
     {"Helsinki-NLP/opus-mt-fr-en"}),
    ("Translate from Russian to English", "translation", "Привет, как у тебя дела сегодня?",
     {"Helsinki-NLP/opus-mt-ru-en"}),
    ("Translate this Japanese text to English", "translation", "今日はとても暑いですね。",
     {"Helsinki-NLP/opus-mt-ja-en", "staka/fugumt-ja-en"}),
    ("Transcribe my Spanish voice memo example.wav", "automatic-speech-recognition", "",
     {"jonatasgrosman/wav2vec2-large-xlsr-53-spanish"}),
    ("Transcribe this Russian interview recording example.wav", "automatic-speech-recognition", "",
     {"jonatasgrosman/wav2vec2-large-xlsr-53-russian"}),
    ("Write down what is said in this Korean audio clip example.wav", "automatic-speech-recognition", "",
     {"kresnik/wav2vec2-large-xlsr-korean"}),
    ("Transcribe this Vietnamese podcast episode example.wav", "automatic-speech-recognition", "",
     {"nguyenvulebinh/wav2vec2-base-vietnamese-250h"}),
    ("Summarize this Russian news article", "summarization", "Москва, 5 мая. Правительство объявило о новых мерах.",
     {"IlyaGusev/mbart_ru_sum_gazeta"}),
    ("Summarize this Chinese article for me", "summarization", "中国科学家今天宣布了一项关于新能源电池的重要发现。",
     {"IDEA-CCNL/Randeng-Pegasus-238M-Summary-Chinese", "IDEA-CCNL/Randeng-Pegasus-523M-Summary-Chinese"}),
    ("Summarize this French news text", "summarization",
     "Le gouvernement a présenté hier un nouveau plan pour l'emploi.",
     {"plguillou/t5-base-fr-sum-cnndm"}),
    ("Summarize this long book chapter into a short summary", "summarization", "Chapter 12. The long winter...",
     {"pszemraj/long-t5-tglobal-base-16384-book-summary", "pszemraj/led-large-book-summary",
      "pszemraj/pegasus-x-large-book-summary"}),
    ("Summarize these terms of service so I know what I agree to", "summarization",
     "By using this service you agree that we may collect your data...", {"ml6team/distilbart-tos-summarizer-tosdr"}),
    ("What is the financial sentiment of this stock market news headline", "text-classification",
     "Shares of Acme fell 5% after weak quarterly earnings.",
     {"ProsusAI/finbert", "yiyanghkust/finbert-tone",
      "mrm8488/distilroberta-finetuned-financial-news-sentiment-analysis"}),
    ("Which emotion (joy, anger, sadness, fear) does this sentence express", "text-classification",
     "I can't believe they cancelled my favourite show!",
     {"j-hartmann/emotion-english-distilroberta-base", "bhadresh-savani/distilbert-base-uncased-emotion",
      "cardiffnlp/twitter-roberta-base-emotion", "arpanghoshal/EmoRoBERTa",
      "joeddav/distilbert-base-uncased-go-emotions-student", "bhadresh-savani/bert-base-go-emotion"}),
    ("Classify the sentiment of this Chinese product review", "text-classification", "这个产品质量很好，我非常满意。",
     {"IDEA-CCNL/Erlangshen-Roberta-110M-Sentiment"}),
    ("Analyse the sentiment of this Spanish tweet", "text-classification", "Me encanta este nuevo teléfono, es genial.",
     {"finiteautomata/beto-sentiment-analysis"}),
    ("Is this crypto tweet bullish or bearish? Cryptocurrency sentiment please", "text-classification",
     "Bitcoin to the moon, buying more BTC today!", {"ElKulako/cryptobert"}),
    ("Find the named entities (people, places) in this French text", "token-classification",
     "Emmanuel Macron a visité Marseille avec Angela Merkel.",
     {"Jean-Baptiste/camembert-ner", "Jean-Baptiste/camembert-ner-with-dates", "cmarkea/distilcamembert-base-ner"}),
    ("Extract the named entities from this German sentence", "token-classification",
     "Angela Merkel besuchte gestern das Werk von Siemens in München.", {"flair/ner-german-large"}),
    ("Recognise the named entities in this Chinese sentence", "token-classification", "李明昨天在北京见到了王芳。",
     {"ckiplab/bert-base-chinese-ner"}),
    ("Answer my question from this Chinese passage", "question-answering", "北京是中国的首都，有两千多万人口。",
     {"uer/roberta-base-chinese-extractive-qa", "luhua/chinese_pretrain_mrc_roberta_wwm_ext_large",
      "luhua/chinese_pretrain_mrc_macbert_large", "hfl/chinese-pert-base-mrc", "IDEA-CCNL/Randeng-T5-784M-QA-Chinese"}),
    ("Beantworte meine Frage anhand dieses deutschen Textes", "question-answering",
     "Die Zugspitze ist mit 2962 Metern der höchste Berg Deutschlands.",
     {"deepset/gelectra-large-germanquad", "deepset/gelectra-base-germanquad",
      "deutsche-telekom/bert-multi-english-german-squad2"}),
    ("Detect and read the license plate of the car in example.jpg", "object-detection", "",
     {"keremberke/yolov5m-license-plate", "keremberke/yolov5n-license-plate", "keremberke/yolov5s-license-plate",
      "nickmuchi/yolos-small-finetuned-license-plate-detection", "nickmuchi/yolos-small-rego-plates-detection"}),
    ("Detect the blood cells in this microscope image example.jpg", "object-detection", "",
     {"keremberke/yolov5n-blood-cell"}),
    ("Read this text aloud in Spanish", "text-to-speech", "Hola, bienvenidos a nuestra tienda.",
     {"facebook/tts_transformer-es-css10"}),
]


@pytest.fixture(scope="module")
def selector() -> Selector:
    catalog = load_catalog(BUNDLED_SNAPSHOT, OFFLINE)
    deployments = DeploymentCache(_no_deployments, Deployments(reachable=False))
    policy = Policy(hosted="on", default_mode=InferenceMode.HUGGINGFACE)
    return Selector(catalog, Ranker(MiniLm()), deployments, DownLlm(), load_task_types(), policy)


async def _no_deployments() -> Deployments:
    return Deployments(hosted_available=True)


async def test_thirty_requests_choose_the_obvious_model(selector: Selector) -> None:
    assert len(CASES) == 30
    wrong = []
    for request, task_type, literal, right in CASES:
        args = (Argument("text", literal=literal),) if literal else (Argument("audio", resource_uri="example"),)
        outcome = await selector.select(request, [Task(1, task_type, (), args)], InferenceMode.HUGGINGFACE)
        chosen = outcome.selections[0].chosen
        assert chosen is not None
        if chosen.model_id not in right:
            wrong.append((request, chosen.model_id))
    print(f"selection: {30 - len(wrong)}/30 right; wrong: {wrong}")
    assert len(wrong) <= 3, wrong


def test_catalogue_path_exists() -> None:
    assert Path(BUNDLED_SNAPSHOT).is_file() and OFFLINE.is_file()
